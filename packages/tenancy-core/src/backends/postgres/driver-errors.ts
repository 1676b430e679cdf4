import { TenantryError, isTenantryError } from '../../kernel/errors.js';

const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end/;

/**
 * A `pg` error as a Tenantry error, so no driver error escapes a PostgreSQL backend (the driver's
 * message may hold values: it stays in `cause`, never in the message): a missing table is
 * `CORE_NOT_MIGRATED` naming what to run, an unreachable server `CORE_STORE_UNAVAILABLE` (retryable),
 * anything else `CORE_STORE_FAILED`. Tenantry errors pass through unchanged.
 * @param migrate what creates the missing tables, e.g. `runMigrations(pool, coreModelMigrations)`
 */
export function mapPostgresDriverError(error: unknown, migrate: string): TenantryError {
  if (isTenantryError(error)) return error;
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === '42P01') {
    return new TenantryError(
      'CORE_NOT_MIGRATED',
      `The tables of @tenantry/core are missing: run ${migrate}`,
      {
        cause: error,
        details: { sqlState: code },
      },
    );
  }
  if (
    code.startsWith('08') ||
    code.startsWith('57P') ||
    CONNECTION_ERRNOS.has(code) ||
    (typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message))
  ) {
    return new TenantryError('CORE_STORE_UNAVAILABLE', 'The PostgreSQL server could not be reached', {
      cause: error,
      ...(code ? { details: { sqlState: code } } : {}),
    });
  }
  return new TenantryError('CORE_STORE_FAILED', 'The PostgreSQL store failed', {
    cause: error,
    ...(code ? { details: { sqlState: code } } : {}),
  });
}
