import { isTenantryError, TenantryError } from '@tenantry/core';
import type { Db, Document } from 'mongodb';
import { SequencerError } from '../../errors.js';
import type { CounterKey } from '../../series.js';

/** @internal */
export interface CounterDoc extends Document {
  _id: string;
  tenant: string;
  series: string;
  period: string;
  mark: number | null;
  fence: number;
  lastIssueDate: string | null;
}
/** @internal */
export interface VoidDoc extends Document {
  _id: string;
  tenant: string;
  series: string;
  period: string;
  number: number;
  reason: string;
  voidedAt: Date;
}
/** @internal */
export interface LockDoc extends Document {
  _id: string;
  owner: string;
  fence: number;
  expireAt: Date;
}

/** Collection names used by the Mongo backends. */
export const MONGO_COLLECTIONS = Object.freeze({
  counters: 'tenantry_sequencer_counters',
  voids: 'tenantry_sequencer_voids',
  locks: 'tenantry_sequencer_locks',
});

/**
 * Create the indexes the Mongo backends need: the lock collection's `expireAt` TTL index (which only
 * garbage-collects abandoned locks; expiry itself is checked against the server clock on take-over) and
 * unique (tenant, series, period[, number]) indexes, tenant first, so the collections can be sharded by
 * tenant. Idempotent.
 * @throws SequencerError `SEQUENCER_STORE_UNAVAILABLE` / `SEQUENCER_STORE_FAILED` (driver error kept as `cause`)
 * @example await ensureSequencerIndexes(client.db('app'));
 */
export async function ensureSequencerIndexes(db: Db): Promise<void> {
  requireDb({ db }, 'ensureSequencerIndexes');
  try {
    await db.collection(MONGO_COLLECTIONS.locks).createIndex({ expireAt: 1 }, { expireAfterSeconds: 0 });
    await db
      .collection(MONGO_COLLECTIONS.counters)
      .createIndex({ tenant: 1, series: 1, period: 1 }, { unique: true });
    await db
      .collection(MONGO_COLLECTIONS.voids)
      .createIndex({ tenant: 1, series: 1, period: 1, number: 1 }, { unique: true });
  } catch (e) {
    throw mapMongoError(e, undefined);
  }
}

/** Whether a driver error is a duplicate key (11000). @internal */
export const isDup = (e: unknown): boolean => (e as { code?: unknown })?.code === 11000;

/**
 * Wrap a MongoDB driver error in a typed sequencer error (cause kept, never in the message): network
 * and server-selection errors → `SEQUENCER_STORE_UNAVAILABLE`, others → `SEQUENCER_STORE_FAILED`.
 * Tenantry errors and transient transaction errors (`WriteConflict`, labelled
 * `TransientTransactionError`, which `withTransaction` must see to retry) pass through unchanged.
 * @internal
 */
export function mapMongoError(error: unknown, key: CounterKey | undefined): unknown {
  if (isTenantryError(error)) return error;
  const e = error as { name?: unknown; hasErrorLabel?: (l: string) => boolean } | null;
  if (typeof e?.hasErrorLabel === 'function' && e.hasErrorLabel('TransientTransactionError')) return error;
  const details = key === undefined ? {} : { tenant: key.tenant, series: key.series, period: key.period };
  if (/Network|ServerSelection|NotConnected|PoolClosed|Topology/.test(String(e?.name ?? ''))) {
    return new SequencerError(
      'SEQUENCER_STORE_UNAVAILABLE',
      'The MongoDB counter store is unreachable; retry later',
      {
        cause: error,
        details,
      },
    );
  }
  return new SequencerError('SEQUENCER_STORE_FAILED', 'The MongoDB counter store failed; see the cause', {
    cause: error,
    details,
  });
}

/**
 * Check that a backend's options hold a MongoDB `Db`.
 * @throws TenantryError `VALIDATION_FAILED`
 * @internal
 */
export function requireDb(options: { db: Db } | undefined, what: string): Db {
  let db: unknown;
  let ok = false;
  try {
    db = (options as { db?: unknown } | undefined)?.db;
    ok = typeof (db as { collection?: unknown } | null | undefined)?.collection === 'function';
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new TenantryError('VALIDATION_FAILED', `${what} needs { db }: a MongoDB Db`, {
      details: { what, issues: [{ path: ['db'], message: 'expected a Db' }] },
    });
  }
  return db as Db;
}
