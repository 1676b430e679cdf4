/**
 * Error codes raised by `@tenantry/core`. Codes are stable API: match on them, never on messages.
 */
export const CoreErrorCodes = {
  /** No tenant context is active where one is required. */
  TENANT_CONTEXT_MISSING: 'TENANT_CONTEXT_MISSING',
  /** An input that crossed the public API failed validation. */
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** The actor lacks a permission the operation needs. */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  /** A serialised job context was malformed, tampered with or signed with another key. */
  JOB_CONTEXT_INVALID: 'JOB_CONTEXT_INVALID',
  /** A system scope was requested without the reason and actor that make it auditable. */
  SYSTEM_SCOPE_INVALID: 'SYSTEM_SCOPE_INVALID',
  /** Nesting a tenant context inside another tenant's context, which would mix tenants. */
  TENANT_CONTEXT_CONFLICT: 'TENANT_CONTEXT_CONFLICT',
} as const;

export type CoreErrorCode = (typeof CoreErrorCodes)[keyof typeof CoreErrorCodes];

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
