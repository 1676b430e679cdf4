import { currentSystemScope, currentTenantContext } from './context.js';
import { TenantryError } from './errors.js';

/**
 * Invariant T1 for platform-level APIs (directory, configuration reads): with a tenant in context, only
 * that tenant may be read or changed; platform-wide changes (`tenantId` null: plans, partners, platform
 * settings) are refused. Outside any context, or inside `runAsSystem`, everything is allowed (the
 * directory is back-office code).
 * @throws TenantryError `TENANT_CONTEXT_CONFLICT`
 */
export function assertTenantAccess(tenantId: string | null, what: string): void {
  const ctx = currentTenantContext();
  if (!ctx || currentSystemScope()) return;
  if (tenantId === null || ctx.tenantId !== tenantId) {
    throw new TenantryError(
      'TENANT_CONTEXT_CONFLICT',
      tenantId === null
        ? `${what} is a platform-wide change and cannot be made inside a tenant context; use runAsSystem`
        : `${what} of another tenant cannot be used inside a tenant context; use runAsSystem`,
      { details: { what } },
    );
  }
}
