import { currentFrame, currentSystemScope } from './context.js';
import { TenantryError, safeText } from './errors.js';
import { TenantIdSchema } from './identity.js';
import { parseInput } from './validation.js';

// The schema's own pattern, tested directly on the hot path (seal, next); zod only to report a failure.
// Stryker disable next-line Regex: a fast-path pre-check; TenantIdSchema decides
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The one rule (invariant T1) that decides which tenant an API call acts for. Every Tenantry API that
 * takes a tenant calls it; no package writes its own check.
 *
 * | where the call runs | tenant omitted | tenant named |
 * |---|---|---|
 * | inside `runAsTenant(A)` | A | A; any other → `TENANT_CONTEXT_CONFLICT` |
 * | inside `runAsSystem` (audited on entry) | the tenant context entered inside it, else `TENANT_CONTEXT_MISSING` | that tenant |
 * | outside any context | `TENANT_CONTEXT_MISSING` | `TENANT_CONTEXT_MISSING`: enter `runAsTenant` or `runAsSystem` |
 *
 * A missing context is never "all tenants", and naming a tenant is never a way around the context:
 * back-office code that works on several tenants does so inside the explicit, audited system scope.
 * @param explicit the tenant the caller named, if any (validated as a {@link TenantIdSchema} tenant id)
 * @param what what is being accessed, for the error message (e.g. `'audit trail'`); never a value
 * @returns the tenant id to act for
 * @throws ValidationError `VALIDATION_FAILED` when `explicit` is not a valid tenant id
 * @throws TenantryError `TENANT_CONTEXT_CONFLICT` when another tenant than the context's is named outside a system scope
 * @throws TenantryError `TENANT_CONTEXT_MISSING` when no tenant can be resolved
 * @example
 * const tenantId = resolveTenantId(options.tenantId, 'sequence series');
 */
export function resolveTenantId(explicit: string | undefined, what: string): string {
  if (typeof what !== 'string') what = safeText(what);
  // One storage read for both the tenant and the system scope (this runs on every sealed value).
  const frame = currentFrame();
  const tenant = frame?.tenant;
  const system = frame?.system;
  // The usual case first: the context's own tenant, omitted or named. Its id was validated when the
  // context was entered (runAsTenant), so naming that same id needs no second check.
  if (system === undefined && tenant !== undefined) {
    if (explicit === undefined || explicit === tenant.tenantId) return tenant.tenantId;
  }
  if (explicit !== undefined && (typeof explicit !== 'string' || !TENANT_ID.test(explicit))) {
    parseInput(TenantIdSchema, explicit, `tenant id of ${what}`);
  }
  if (system !== undefined) {
    const id = explicit ?? tenant?.tenantId;
    if (id !== undefined) return id;
  } else if (tenant !== undefined) {
    throw new TenantryError(
      'TENANT_CONTEXT_CONFLICT',
      `The ${what} of another tenant cannot be used inside a tenant context; use runAsSystem for cross-tenant work`,
      { details: { what, current: tenant.tenantId, requested: explicit } },
    );
  }
  throw new TenantryError(
    'TENANT_CONTEXT_MISSING',
    explicit === undefined
      ? `The ${what} needs a tenant context and none is active; run it inside runAsTenant(ctx, fn)`
      : `Naming a tenant for the ${what} outside any context is refused; enter runAsTenant, or runAsSystem for cross-tenant work`,
    { details: { what } },
  );
}

/**
 * Require the explicit, audited system scope, for changes that are not one tenant's (plans, partners,
 * platform settings, creating tenants).
 * @param what what is being changed, for the error message
 * @throws TenantryError `SYSTEM_SCOPE_REQUIRED` outside `runAsSystem`
 * @example requireSystemScope('plan');
 */
export function requireSystemScope(what: string): void {
  if (typeof what !== 'string') what = safeText(what);
  if (currentSystemScope() === undefined) {
    throw new TenantryError(
      'SYSTEM_SCOPE_REQUIRED',
      `Changing the ${what} is platform-wide work; run it inside runAsSystem`,
      { details: { what } },
    );
  }
}
