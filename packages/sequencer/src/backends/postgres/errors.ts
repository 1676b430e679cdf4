import { isTenantryError, TenantryError } from '@tenantry/core';
import { SequencerError } from '../../errors.js';
import { lockTimeout } from '../../lock-backend.js';
import type { CounterKey } from '../../series.js';

/**
 * Connection-level failures: the store is unreachable or the connection broke; retrying later can work.
 * @internal
 */
export const UNAVAILABLE: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  '08P01', // protocol_violation: PgBouncer's "server conn crashed?" when the server session dies under it
  '53300', // too_many_connections
]);

/**
 * Map a PostgreSQL driver error to a typed sequencer error, keeping the driver error as `cause` (never
 * in the message): 55P03 → `SEQUENCER_LOCK_TIMEOUT`; 40001/40P01 → `SEQUENCER_SERIALIZATION_FAILURE`;
 * 42P01 → `SEQUENCER_NOT_MIGRATED`; connection failures → `SEQUENCER_STORE_UNAVAILABLE`; anything else →
 * `SEQUENCER_STORE_FAILED`. Tenantry errors pass through unchanged.
 * @internal
 */
export function mapPgError(error: unknown, key: CounterKey | undefined, waitMs: number): Error {
  if (isTenantryError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const details = key === undefined ? {} : { tenant: key.tenant, series: key.series, period: key.period };
  if (code === '55P03' && key !== undefined) return lockTimeout(key, waitMs, error);
  if (code === '40001' || code === '40P01') {
    return new SequencerError(
      'SEQUENCER_SERIALIZATION_FAILURE',
      'PostgreSQL aborted the transaction (serialization failure or deadlock); roll back and retry the whole transaction',
      { cause: error, details: { ...details, sqlstate: code } },
    );
  }
  if (code === '42P01') {
    return new SequencerError(
      'SEQUENCER_NOT_MIGRATED',
      'The sequencer tables do not exist: run runMigrations(pool, sequencerMigrations) or migrations/postgres/001_sequencer.sql',
      { cause: error, details },
    );
  }
  if (code === '42P05' || code === '26000') {
    // A named statement the session did not have, or already had: the connection is shared behind
    // the client's back (a transaction-mode pooler).
    return new SequencerError(
      'SEQUENCER_STORE_FAILED',
      'A named prepared statement clashed with the session (a transaction-mode connection pooler?): use createPostgresSequencer({ namedStatements: false }), the default',
      { cause: error, details: { ...details, sqlstate: code } },
    );
  }
  const message = String((error as { message?: unknown } | null)?.message ?? '');
  if (
    (typeof code === 'string' && UNAVAILABLE.has(code)) ||
    /Connection terminated|Client was closed|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
      message,
    )
  ) {
    return new SequencerError(
      'SEQUENCER_STORE_UNAVAILABLE',
      'The PostgreSQL counter store is unreachable; retry later',
      {
        cause: error,
        details: typeof code === 'string' ? { ...details, sqlstate: code } : details,
      },
    );
  }
  return new SequencerError('SEQUENCER_STORE_FAILED', 'The PostgreSQL counter store failed; see the cause', {
    cause: error,
    details: typeof code === 'string' ? { ...details, sqlstate: code } : details,
  });
}

/** A `pg` client that also accepts query config objects with a statement name. @internal */
export interface PgNamedQueryable {
  query<R>(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: R[] }>;
}

/** Parse a bigint column returned as a string. @internal */
export const toNumber = (v: string | number | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

/**
 * Check that a backend's options hold a usable client (`query`, and `connect` when `needsConnect`).
 * @throws TenantryError `VALIDATION_FAILED`
 * @internal
 */
export function requirePool<T>(options: { pool: T } | undefined, what: string, needsConnect = false): T {
  let pool: { query?: unknown; connect?: unknown } | undefined;
  try {
    pool = (options as { pool?: unknown } | undefined)?.pool as typeof pool;
    if (typeof pool === 'object' && pool !== null) void [pool.query, pool.connect];
  } catch {
    pool = undefined;
  }
  if (
    typeof pool !== 'object' ||
    pool === null ||
    typeof pool.query !== 'function' ||
    (needsConnect && typeof pool.connect !== 'function')
  ) {
    throw new TenantryError(
      'VALIDATION_FAILED',
      `${what} needs { pool }: a pg Pool${needsConnect ? '' : ' or client'}`,
      {
        details: { what, issues: [{ path: ['pool'], message: 'expected a pg Pool' }] },
      },
    );
  }
  return pool as T;
}
