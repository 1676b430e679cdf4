/**
 * HTTP statuses the framework adapters answer with. Each error code maps to exactly one, so the Express
 * and Nest adapters (and a host's own error handler) map any Tenantry error generically.
 */
export type HttpStatus =
  | 400
  | 401
  | 402
  | 403
  | 404
  | 409
  | 410
  | 412
  | 413
  | 422
  | 423
  | 429
  | 500
  | 502
  | 503
  | 504;

/** What one error code means to a caller: its HTTP status, and whether retrying the same call can succeed. */
export interface ErrorCodeSpec {
  /** The HTTP status an adapter answers with. */
  readonly status: HttpStatus;
  /** Whether the same call may succeed if retried later (lock timeouts, unavailable stores). @default false */
  readonly retryable?: boolean;
}

/** A package's table of error codes: `UPPER_SNAKE` code → {@link ErrorCodeSpec}. */
export type ErrorCodeTable = Readonly<Record<string, ErrorCodeSpec>>;

// One registry per realm, shared by duplicated installs, like the context storage.
const REGISTRY_KEY = Symbol.for('tenantry.errors.registry');
const registrySlot = globalThis as unknown as Record<symbol, Map<string, ErrorCodeSpec> | undefined>;
const registry: Map<string, ErrorCodeSpec> = registrySlot[REGISTRY_KEY] ?? new Map<string, ErrorCodeSpec>();
registrySlot[REGISTRY_KEY] = registry;

/**
 * Declare a package's error codes with their HTTP status, and register them so that
 * {@link errorCodeSpec} and `TenantryError#status` know them. Every package calls this once, in its
 * `errors.ts`; codes of new packages carry the package's prefix (`APPROVAL_`, `VAULT_`).
 * @returns the same table, typed exactly
 * @example
 * export const VaultErrorCodes = defineErrorCodes({ VAULT_SNAPSHOT_CORRUPT: { status: 422 } });
 * export type VaultErrorCode = keyof typeof VaultErrorCodes;
 */
export function defineErrorCodes<const T extends ErrorCodeTable>(table: T): T {
  // Checked by hand, not with zod: this runs at every package's load, and must not need the validation module.
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new TenantryError(
      'VALIDATION_FAILED',
      'An error-code table must be an object of code → { status }',
    );
  }
  const entries = Object.entries(table);
  for (const [code, spec] of entries) {
    if (
      !CODE_PATTERN.test(code) ||
      typeof spec !== 'object' ||
      spec === null ||
      !HTTP_STATUSES.has(spec.status) ||
      (spec.retryable !== undefined && typeof spec.retryable !== 'boolean')
    ) {
      throw new TenantryError('VALIDATION_FAILED', 'Invalid entry in an error-code table', {
        details: { code: CODE_PATTERN.test(code) ? code : '(malformed code)' },
      });
    }
  }
  for (const [code, spec] of entries) {
    registry.set(code, Object.freeze({ status: spec.status, retryable: spec.retryable === true }));
  }
  return Object.freeze(table);
}

const CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
const HTTP_STATUSES: ReadonlySet<unknown> = new Set([
  400, 401, 402, 403, 404, 409, 410, 412, 413, 422, 423, 429, 500, 502, 503, 504,
]);

const UNKNOWN_CODE: ErrorCodeSpec = Object.freeze({ status: 500, retryable: false });

/**
 * The spec of an error code declared by any loaded Tenantry package; unknown codes are `500`, not retryable.
 * @example errorCodeSpec('TENANT_CONTEXT_MISSING').status // 403
 */
export function errorCodeSpec(code: string): ErrorCodeSpec {
  return registry.get(code) ?? UNKNOWN_CODE;
}

/**
 * Every error code `@tenantry/core` raises, kernel and tenancy platform alike, with the HTTP status the
 * adapters answer with. Codes are stable API: match on them, never on messages. The error classes
 * (`TenancyModelError`, `QuotaError`, `GatekeeperError`, `ImpersonationError`, `RlsError`) draw their
 * codes from this one table.
 */
export const CoreErrorCodes = defineErrorCodes({
  // Kernel: context, identity, validation, permissions.
  /** No tenant context is active where one is required, or a tenant was named outside any context or system scope. */
  TENANT_CONTEXT_MISSING: { status: 403 },
  /** Another tenant than the one in context was named, or a tenant context was nested in another's. */
  TENANT_CONTEXT_CONFLICT: { status: 403 },
  /** An operation that changes platform-wide data (plans, partners, platform settings, tenants) ran outside a system scope. */
  SYSTEM_SCOPE_REQUIRED: { status: 403 },
  /** A system scope was requested without the reason and actor that make it auditable. */
  SYSTEM_SCOPE_INVALID: { status: 400 },
  /** An input that crossed the public API failed validation. */
  VALIDATION_FAILED: { status: 400 },
  /** The actor lacks a permission the operation needs. */
  PERMISSION_DENIED: { status: 403 },
  /** A serialised job context was malformed, tampered with or signed with another key. */
  JOB_CONTEXT_INVALID: { status: 400 },

  // Kernel: PostgreSQL row-level security and units of work.
  /** A statement failed inside the unit of work (its error was caught there) and COMMIT rolled the transaction back. */
  UNIT_OF_WORK_ROLLED_BACK: { status: 500 },
  /** A query was issued on a unit of work's connection handle after the unit ended (e.g. from a closure or timer). */
  UNIT_OF_WORK_ENDED: { status: 500 },
  /** The connection's role is a superuser (superusers bypass every policy). */
  RLS_SUPERUSER: { status: 500 },
  /** The role has BYPASSRLS, or may become (is a member of) a role that is superuser or has BYPASSRLS. */
  RLS_BYPASSRLS: { status: 500 },
  /** The role owns a tenant table, or inherits the owner's rights (it could disable or drop the policy). */
  RLS_TABLE_OWNER: { status: 500 },
  /** A listed tenant table is missing, or does not have row-level security enabled and forced. */
  RLS_NOT_ENFORCED: { status: 500 },
  /** An applied migration's SQL differs from the one the package ships. */
  MIGRATION_CHECKSUM_MISMATCH: { status: 500 },
  /** A store's tables are missing: run the migrations the message names (`runMigrations(pool, coreModelMigrations)`, …). */
  CORE_NOT_MIGRATED: { status: 500 },
  /** The store (PostgreSQL, Redis, MongoDB) could not be reached; retry later. The driver's error is the `cause`. */
  CORE_STORE_UNAVAILABLE: { status: 503, retryable: true },
  /** The store answered with an unexpected error. The driver's error is the `cause`, never in the message. */
  CORE_STORE_FAILED: { status: 500 },

  // Tenancy platform: model, stores, directory.
  /** A lifecycle transition that the state machine does not allow (e.g. ARCHIVED → ACTIVE). */
  ILLEGAL_TRANSITION: { status: 409 },
  /** A conditional write lost: the record changed since it was read (re-read, then decide again). */
  CONCURRENT_MODIFICATION: { status: 409 },
  /** The partner, tenant, plan or subscription does not exist. */
  NOT_FOUND: { status: 404 },
  /** A record with that id already exists, or the tenant already has a live subscription. */
  ALREADY_EXISTS: { status: 409 },
  /** A reference to a partner, tenant or plan that does not exist. */
  REFERENCE_NOT_FOUND: { status: 422 },
  /** A setting value does not match its definition. */
  SETTING_INVALID: { status: 422 },
  /** A setting that is not defined was written or read. */
  SETTING_UNKNOWN: { status: 422 },
  /** The invalidation bus's subscription is down (a cache then reads through to the store). */
  INVALIDATION_BUS_DOWN: { status: 503, retryable: true },
  /**
   * The LISTEN connection goes through a connection pooler (PgBouncer in transaction mode loses every
   * notification): give the bus's `connect` a direct connection to the PostgreSQL server.
   */
  INVALIDATION_BUS_POOLED: { status: 500 },

  // Tenancy platform: quotas.
  /** The request would take the tenant past its limit for the current window; retry after `details.resetAt`. */
  QUOTA_EXCEEDED: { status: 429, retryable: true },
  /** The quota is not configured, or no limit could be resolved for the tenant (fail closed). */
  QUOTA_UNKNOWN: { status: 500 },

  // Tenancy platform: gatekeeper refusals.
  /** No such tenant. */
  TENANT_NOT_FOUND: { status: 404 },
  /** The tenant is still being provisioned; it will be usable once activated. */
  TENANT_PROVISIONING: { status: 503, retryable: true },
  /** The tenant is suspended. */
  TENANT_SUSPENDED: { status: 403 },
  /** The tenant is archived (final). */
  TENANT_ARCHIVED: { status: 410 },
  /** The tenant has no subscription and one is required. */
  SUBSCRIPTION_MISSING: { status: 402 },
  /** Payment is overdue; only tenant admins may sign in (to settle). */
  SUBSCRIPTION_PAST_DUE: { status: 402 },
  /** The subscription is canceled; only tenant admins may sign in (to renew). */
  SUBSCRIPTION_CANCELED: { status: 402 },
  /** The user has not accepted the current terms; show them and record `acceptTerms`. */
  TERMS_NOT_ACCEPTED: { status: 403 },
  /** Platform-wide maintenance: writes refused for all but super admins. */
  MAINTENANCE_GLOBAL: { status: 503, retryable: true },
  /** This tenant is in maintenance: writes refused for all but super admins. */
  MAINTENANCE_TENANT: { status: 503, retryable: true },

  // Tenancy platform: impersonation.
  /** The impersonation session's expiry has passed (or it was ended); start a new one. */
  IMPERSONATION_EXPIRED: { status: 401 },
  /** The target may not be impersonated (themselves, or another support user / super admin), or the caller is impersonating already. */
  IMPERSONATION_TARGET_FORBIDDEN: { status: 403 },
  /** The audit event could not be written, so the impersonation did not start (fail closed). */
  IMPERSONATION_AUDIT_FAILED: { status: 503, retryable: true },
  /** The tenant could not be notified, so the impersonation did not start (fail closed). */
  IMPERSONATION_NOTIFY_FAILED: { status: 503, retryable: true },
});

/** One of {@link CoreErrorCodes}. */
export type CoreErrorCode = keyof typeof CoreErrorCodes;

/** Options accepted by {@link TenantryError}. */
export interface TenantryErrorOptions {
  /** The underlying error, kept for diagnostics. Never put secrets in it. */
  cause?: unknown;
  /** Safe, structured details (ids, field paths); never secrets or personal data. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * Base class of every error thrown by Tenantry packages.
 *
 * `code` is a stable UPPER_SNAKE string that callers and adapters match on (adapters map it to an
 * HTTP status and an RFC 9457 problem body). Messages are written for developers and never contain
 * keys, plaintexts, tokens or personal data.
 *
 * @example
 * try { requireTenant(); } catch (e) { if (isTenantryError(e, 'TENANT_CONTEXT_MISSING')) { ... } }
 */
export class TenantryError extends Error {
  /** Stable machine-readable code, e.g. `TENANT_CONTEXT_MISSING`. */
  readonly code: string;
  /** Safe structured details for logs and problem bodies. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: TenantryErrorOptions = {}) {
    // Never throws on odd arguments (a symbol, null options, a string as details): an error class
    // that fails while reporting an error hides the original one.
    const opts: TenantryErrorOptions = typeof options === 'object' && options !== null ? options : {};
    super(
      typeof message === 'string' ? message : message === undefined ? '' : safeText(message),
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = new.target.name;
    this.code = typeof code === 'string' ? code : safeText(code);
    const details = opts.details;
    this.details = Object.freeze(
      typeof details === 'object' && details !== null && !Array.isArray(details) ? { ...details } : {},
    );
  }

  /** The HTTP status adapters answer with, from the code's {@link ErrorCodeSpec} (500 for an unknown code). */
  get status(): HttpStatus {
    return errorCodeSpec(this.code).status;
  }

  /** Whether retrying the same call later may succeed, from the code's {@link ErrorCodeSpec}. */
  get retryable(): boolean {
    return errorCodeSpec(this.code).retryable === true;
  }

  /** A JSON form with code, message and details only: never the cause chain, which may hold secrets. */
  toJSON(): { name: string; code: string; message: string; details: Readonly<Record<string, unknown>> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/**
 * A short, safe text for any value, for error messages built from caller arguments (`what`, a code):
 * never throws (a symbol, an object whose `toString` throws), and is capped at `max` characters.
 * @internal
 */
export function safeText(value: unknown, max = 200): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'symbol') text = value.description ?? 'symbol';
  else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    text = String(value);
  else if (value === undefined || value === null) text = String(value);
  else text = typeof value === 'function' ? 'function' : Array.isArray(value) ? 'array' : 'object';
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Brand check that also works across duplicated copies of the package (it checks shape, not prototype). */
const BRAND = Symbol.for('tenantry.error');
Object.defineProperty(TenantryError.prototype, BRAND, { value: true });

/**
 * Whether `value` is a {@link TenantryError}, optionally with a given code.
 * Works across duplicate installs of `@tenantry/core` (it checks a global symbol brand).
 * @example if (isTenantryError(err, 'PERMISSION_DENIED')) res.status(403);
 */
export function isTenantryError(value: unknown, code?: string): value is TenantryError {
  if (typeof value !== 'object' || value === null) return false;
  if (!(value as Record<symbol, unknown>)[BRAND]) return false;
  return code === undefined || (value as TenantryError).code === code;
}
