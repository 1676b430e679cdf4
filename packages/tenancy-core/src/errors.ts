/**
 * HTTP statuses the framework adapters answer with. Each error code maps to exactly one, so the Express
 * and Nest adapters (and a host's own error handler) map any Tenantry error generically.
 */
export type HttpStatus =
  | 400
  | 401
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
  400, 401, 403, 404, 409, 410, 412, 413, 422, 423, 429, 500, 502, 503, 504,
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
 * Error codes raised by `@tenantry/core`'s kernel (context, validation, identity). Codes are stable
 * API: match on them, never on messages.
 */
export const CoreErrorCodes = defineErrorCodes({
  /** No tenant context is active where one is required, or a tenant was named outside any context or system scope. */
  TENANT_CONTEXT_MISSING: { status: 403 },
  /** An input that crossed the public API failed validation. */
  VALIDATION_FAILED: { status: 400 },
  /** The actor lacks a permission the operation needs. */
  PERMISSION_DENIED: { status: 403 },
  /** A serialised job context was malformed, tampered with or signed with another key. */
  JOB_CONTEXT_INVALID: { status: 400 },
  /** A system scope was requested without the reason and actor that make it auditable. */
  SYSTEM_SCOPE_INVALID: { status: 400 },
  /** Another tenant than the one in context was named, or a tenant context was nested in another's. */
  TENANT_CONTEXT_CONFLICT: { status: 403 },
  /** An operation that changes platform-wide data (plans, partners, platform settings) ran outside a system scope. */
  SYSTEM_SCOPE_REQUIRED: { status: 403 },
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
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
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
