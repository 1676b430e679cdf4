import { TenantryError, type TenantryErrorOptions, defineErrorCodes } from '@tenantry/core';

/**
 * Error codes raised by `@tenantry/audit`, with the HTTP status adapters answer with. Stable API:
 * match on them, never on messages. Core's `VALIDATION_FAILED` and `TENANT_CONTEXT_*` are shared.
 */
export const AuditErrorCodes = defineErrorCodes({
  /** The sink (or a sink of a fan-out) failed to store an event, and the action is fail-closed. Retry later. */
  AUDIT_WRITE_FAILED: { status: 503, retryable: true },
  /** A fail-open event could be neither written nor spooled to disk (spool full, disk error): it was not accepted. */
  AUDIT_SPOOL_FAILED: { status: 503, retryable: true },
  /** The bounded buffer is full and the log was configured with `whenFull: 'reject'`. */
  AUDIT_BUFFER_FULL: { status: 503, retryable: true },
  /** The audit log was closed; no more events are accepted. */
  AUDIT_CLOSED: { status: 503 },
  /** Metadata or changes exceed the configured size limits, or nest deeper than `maxDepth`. */
  AUDIT_EVENT_TOO_LARGE: { status: 413 },
  /** A value in the event cannot be stored exactly (a non-JSON value, NUL character, lone surrogate). */
  AUDIT_VALUE_UNSUPPORTED: { status: 422 },
  /** The sink cannot do what was asked (reading a write-only sink; checkpoints without a signing key). */
  AUDIT_CAPABILITY_MISSING: { status: 500 },
  /** A checkpoint's signature or content does not verify, or it names another chain. */
  AUDIT_CHECKPOINT_INVALID: { status: 422 },
  /**
   * `checkpoint` found that the trail does not verify since its latest trusted checkpoint (an event
   * modified, deleted or inserted, or the tail removed), so it signed nothing. Investigate with `verify`.
   */
  AUDIT_CHAIN_BROKEN: { status: 409 },
  /** An exported trail is malformed (no header, a line that is not JSON). */
  AUDIT_EXPORT_INVALID: { status: 422 },
  /** A query cursor is malformed or belongs to another chain. */
  AUDIT_CURSOR_INVALID: { status: 400 },
  /** The spool directory is held by another live process. */
  AUDIT_SPOOL_LOCKED: { status: 500 },
  /** The audit tables do not exist: apply `auditMigrations` with core's `runMigrations` (or `auditMigrationSql()`). */
  AUDIT_NOT_MIGRATED: { status: 500 },
  /** The store could not be reached (connection refused or lost, server shutting down). Retry later. */
  AUDIT_STORE_UNAVAILABLE: { status: 503, retryable: true },
  /** The store refused an operation for another reason (the driver error is the `cause`). */
  AUDIT_STORE_FAILED: { status: 500 },
});

/** One of {@link AuditErrorCodes}. */
export type AuditErrorCode = keyof typeof AuditErrorCodes;

/**
 * Base error of `@tenantry/audit`; `code` is one of {@link AuditErrorCodes} or core's `VALIDATION_FAILED`.
 * Messages and details never contain event contents (they may hold personal data).
 */
export class AuditError extends TenantryError {
  constructor(
    code: AuditErrorCode | 'VALIDATION_FAILED',
    message: string,
    options: TenantryErrorOptions = {},
  ) {
    // Never throws on odd arguments (a symbol, a huge string as details): they are coerced safely.
    const opts: TenantryErrorOptions = {};
    if (typeof options === 'object' && options !== null) {
      if (options.cause !== undefined) opts.cause = options.cause;
      const details: unknown = options.details;
      if (typeof details === 'object' && details !== null && !Array.isArray(details))
        opts.details = details as Record<string, unknown>;
    }
    super(typeof code === 'string' ? code : 'VALIDATION_FAILED', textOf(message), opts);
  }
}

// An explicit, total conversion to a message: a symbol by its description, anything whose
// conversion throws (a null-prototype object, a hostile toString) as ''.
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  if (typeof value === 'symbol') return value.description ?? '';
  try {
    return String(value);
  } catch {
    return '';
  }
}

const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/**
 * Wrap a driver error at a sink's public boundary: a missing table is `AUDIT_NOT_MIGRATED`, a lost or
 * refused connection `AUDIT_STORE_UNAVAILABLE` (retryable), anything else `AUDIT_STORE_FAILED`. The
 * driver error is kept as `cause`, never copied into the message. Tenantry errors pass through.
 */
export function storeError(error: unknown, sink: string, operation: string): TenantryError {
  if (error instanceof TenantryError) return error;
  const e = error as { code?: unknown; name?: unknown; errorLabels?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const details = { sink, operation, driverCode: code ?? (typeof e?.code === 'number' ? e.code : undefined) };
  // PostgreSQL: undefined_table, invalid_schema_name, undefined_function.
  if (code === '42P01' || code === '3F000' || code === '42883') {
    return new AuditError(
      'AUDIT_NOT_MIGRATED',
      `The ${sink} audit tables are missing: apply auditMigrations`,
      {
        cause: error,
        details,
      },
    );
  }
  const unavailable =
    (code !== undefined &&
      (UNAVAILABLE_ERRNO.has(code) ||
        code.startsWith('08') ||
        code === '57P01' ||
        code === '57P03' ||
        code === '53300')) ||
    e?.name === 'MongoNetworkError' ||
    e?.name === 'MongoServerSelectionError' ||
    (error instanceof Error && /Connection terminated|connection timeout/i.test(error.message));
  if (unavailable) {
    return new AuditError('AUDIT_STORE_UNAVAILABLE', `The ${sink} audit store is unavailable`, {
      cause: error,
      details,
    });
  }
  return new AuditError('AUDIT_STORE_FAILED', `The ${sink} audit store refused ${operation}`, {
    cause: error,
    details,
  });
}
