import {
  TenantIdSchema,
  TenantryError,
  confinedTenantId,
  currentSystemScope,
  currentTenantContext,
  parseInput,
  requireSystemScope,
  resolveTenantId,
} from '@tenantry/core';
import { z } from 'zod';
import { PLATFORM_CHAIN } from './event.js';

/**
 * Which trail an audit call names: a tenant id, `null` (or {@link PLATFORM_CHAIN}) for the platform
 * trail, or nothing at all, meaning the tenant of the current context.
 */
export const TrailKeySchema = z.union([TenantIdSchema, z.literal(PLATFORM_CHAIN), z.null()]).optional();
/** A trail key as accepted by `record`, `query`, `verify`, `checkpoint` and `exportTrail`. */
export type TrailKey = z.input<typeof TrailKeySchema>;

/**
 * The rule (invariant T1) every audit API that takes a trail applies, for reads and writes alike:
 *
 * | trail named | inside `runAsTenant(A)` | inside `runAsSystem` | outside any context |
 * |---|---|---|---|
 * | omitted | A | the tenant context entered inside it, else `TENANT_CONTEXT_MISSING` | `TENANT_CONTEXT_MISSING` |
 * | tenant A | A | A | `TENANT_CONTEXT_MISSING` |
 * | tenant B ≠ A | `TENANT_CONTEXT_CONFLICT` | B | `TENANT_CONTEXT_MISSING` |
 * | `null` (platform trail) | `SYSTEM_SCOPE_REQUIRED` | the platform trail | `SYSTEM_SCOPE_REQUIRED` |
 *
 * Tenants come from core's `resolveTenantId`; the platform trail is platform-wide data and needs the
 * system scope (`requireSystemScope`). Core's own platform events reach the log through
 * {@link resolvePortChain} instead.
 * @returns the chain key: the tenant id, or {@link PLATFORM_CHAIN}
 * @throws TenantryError `TENANT_CONTEXT_MISSING` | `TENANT_CONTEXT_CONFLICT` | `SYSTEM_SCOPE_REQUIRED`; ValidationError `VALIDATION_FAILED`
 */
export function resolveChain(explicit: TrailKey, what: string): string {
  if (explicit === null || explicit === PLATFORM_CHAIN) {
    requireSystemScope(`platform ${what}`);
    return PLATFORM_CHAIN;
  }
  return resolveTenantId(explicit, what);
}

/**
 * The rule of `audit.port`, the channel through which core's kernel (system scopes, impersonation)
 * and other packages (approvals) write. Core writes some events at moments where by design no
 * context is active yet or any more: `system_scope.entered` before the scope is entered,
 * `system_scope.exited` after it is left (both with `tenantId: null`), `impersonation.started`
 * before the impersonated tenant's context exists. So:
 * - a platform event (`tenantId: null`) is always accepted: it belongs to no tenant, and the port
 *   cannot read anything back;
 * - a tenant event inside a tenant context (outside a system scope) must name that tenant
 *   (`TENANT_CONTEXT_CONFLICT` otherwise, as for `record`);
 * - a tenant event in code that left a tenant's context (`runWithoutContext`) must name the tenant
 *   that was left (`TENANT_CONTEXT_CONFLICT` otherwise);
 * - a tenant event outside any context, or inside the system scope, is accepted as named.
 * @throws TenantryError `TENANT_CONTEXT_CONFLICT`; ValidationError `VALIDATION_FAILED`
 */
export function resolvePortChain(tenantId: string | null): string {
  if (tenantId === null) return PLATFORM_CHAIN;
  if (currentTenantContext() !== undefined && currentSystemScope() === undefined) {
    return resolveTenantId(tenantId, 'audit trail');
  }
  const id = parseInput(TenantIdSchema, tenantId, 'tenant id of an audit event');
  // Code that left a tenant's context (runWithoutContext) is still confined to that tenant.
  const confined = confinedTenantId();
  if (confined !== undefined && confined !== id) {
    throw new TenantryError(
      'TENANT_CONTEXT_CONFLICT',
      "Code that left a tenant's context cannot write another tenant's audit trail; use runAsSystem",
      { details: { what: 'audit trail', current: confined, requested: id } },
    );
  }
  return id;
}
