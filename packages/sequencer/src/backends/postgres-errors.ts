import { SequencerError } from '../errors.js';
import type { CounterKey } from '../series.js';
import { lockTimeout } from './shared.js';

/** Map PostgreSQL errors to typed sequencer errors (55P03 lock timeout, 42P01 missing table). @internal */
export function mapPgError(error: unknown, key: CounterKey, waitMs: number): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '55P03') return lockTimeout(key, waitMs, error);
  if (code === '42P01') {
    return new SequencerError(
      'SEQUENCER_NOT_MIGRATED',
      'The sequencer tables do not exist: run migratePostgres() or migrations/postgres/001_sequencer.sql',
      { cause: error },
    );
  }
  return error;
}

/** A `pg` client that also accepts query config objects with a statement name. @internal */
export interface PgNamedQueryable {
  query<R>(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: R[] }>;
}

/** Parse a bigint column returned as a string. @internal */
export const toNumber = (v: string | number | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);
