import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '@tenantry/core';
import type { ClientSession, Collection, Db, Document } from 'mongodb';
import type { CounterState, CounterStore, VoidRecord } from '../counter-store.js';
import { SequencerError } from '../errors.js';
import { parseVoid } from '../locked-sequencer.js';
import { type AcquireOptions, counterResource, type LockBackend, type LockLease } from '../lock-backend.js';
import type { IssueDateInput } from '../period.js';
import {
  type AllocatedNumber,
  buildAllocations,
  type CounterKey,
  checkRange,
  resolveRequest,
  type Series,
} from '../series.js';
import { alreadyVoided, checkVoid, conflict, fenced, lockTimeout, sleep } from './shared.js';

interface CounterDoc extends Document {
  _id: string;
  tenant: string;
  series: string;
  period: string;
  mark: number | null;
  fence: number;
  lastIssueDate: string | null;
}
interface VoidDoc extends Document {
  _id: string;
  tenant: string;
  series: string;
  period: string;
  number: number;
  reason: string;
  voidedAt: Date;
}
interface LockDoc extends Document {
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

const isDup = (e: unknown): boolean => (e as { code?: unknown })?.code === 11000;
const toState = (d: CounterDoc | null | undefined): CounterState => ({
  mark: d?.mark ?? null,
  lastIssueDate: d?.lastIssueDate ?? null,
});

/**
 * Create the indexes the Mongo backends need: the lock collection's `expireAt` TTL index (which only
 * garbage-collects abandoned locks; expiry itself is checked against the server clock on take-over) and
 * unique (tenant, series, period[, number]) indexes, tenant first, so the collections can be sharded by tenant.
 * @example await ensureMongoIndexes(client.db('app'));
 */
export async function ensureMongoIndexes(db: Db): Promise<void> {
  await db.collection(MONGO_COLLECTIONS.locks).createIndex({ expireAt: 1 }, { expireAfterSeconds: 0 });
  await db
    .collection(MONGO_COLLECTIONS.counters)
    .createIndex({ tenant: 1, series: 1, period: 1 }, { unique: true });
  await db
    .collection(MONGO_COLLECTIONS.voids)
    .createIndex({ tenant: 1, series: 1, period: 1, number: 1 }, { unique: true });
}

/**
 * MongoDB counter store (official driver). Works for the callback form on any deployment; for the
 * in-transaction form use {@link createMongoSequencer}, which needs a replica set or sharded cluster.
 * @example const store = new MongoCounterStore(client.db('app'));
 */
export class MongoCounterStore implements CounterStore {
  readonly kind = 'mongo';
  readonly capabilities = Object.freeze({ sharesTransactionWithDocuments: true, ownsConnection: false });
  readonly #counters: Collection<CounterDoc>;
  readonly #voids: Collection<VoidDoc>;

  /** @param db the user's database handle (not closed by the store) */
  constructor(db: Db) {
    this.#counters = db.collection<CounterDoc>(MONGO_COLLECTIONS.counters);
    this.#voids = db.collection<VoidDoc>(MONGO_COLLECTIONS.voids);
  }

  async read(key: CounterKey, fence: number): Promise<CounterState> {
    try {
      const doc = await this.#counters.findOneAndUpdate(
        { _id: counterResource(key), fence: { $lte: fence } },
        {
          $set: { fence },
          $setOnInsert: {
            tenant: key.tenant,
            series: key.series,
            period: key.period,
            mark: null,
            lastIssueDate: null,
          },
        },
        { upsert: true, returnDocument: 'after' },
      );
      return toState(doc);
    } catch (e) {
      if (isDup(e)) throw fenced(key, fence);
      throw e;
    }
  }

  async peek(key: CounterKey): Promise<CounterState> {
    return toState(await this.#counters.findOne({ _id: counterResource(key) }));
  }

  async advance(
    key: CounterKey,
    change: { from: number | null; to: number; fence: number; issueDate?: string | undefined },
  ): Promise<void> {
    const date = change.issueDate ?? null;
    try {
      const r = await this.#counters.updateOne(
        { _id: counterResource(key), fence: { $lte: change.fence }, mark: change.from },
        [
          {
            $set: {
              tenant: key.tenant,
              series: key.series,
              period: key.period,
              mark: change.to,
              fence: change.fence,
              lastIssueDate: { $max: [{ $ifNull: ['$lastIssueDate', null] }, { $literal: date }] },
            },
          },
        ],
        { upsert: change.from === null },
      );
      if (r.matchedCount === 1 || r.upsertedCount === 1) return;
    } catch (e) {
      if (!isDup(e)) throw e;
    }
    const now = await this.#counters.findOne({ _id: counterResource(key) });
    if (now && now.fence > change.fence) throw fenced(key, change.fence);
    throw conflict(key);
  }

  async recover(key: CounterKey, change: { committed: number | null; fence: number }): Promise<CounterState> {
    try {
      const doc = await this.#counters.findOneAndUpdate(
        { _id: counterResource(key), fence: { $lte: change.fence } },
        [
          {
            $set: {
              tenant: key.tenant,
              series: key.series,
              period: key.period,
              fence: change.fence,
              mark: { $max: [{ $ifNull: ['$mark', null] }, { $literal: change.committed }] },
              lastIssueDate: { $ifNull: ['$lastIssueDate', null] },
            },
          },
        ],
        { upsert: true, returnDocument: 'after' },
      );
      return toState(doc);
    } catch (e) {
      if (isDup(e)) throw fenced(key, change.fence);
      throw e;
    }
  }

  async recordVoid(key: CounterKey, record: VoidRecord, session?: ClientSession): Promise<void> {
    const c = await this.#counters.findOne({ _id: counterResource(key) }, { session });
    checkVoid(key, c?.mark ?? null, record.number);
    try {
      await this.#voids.insertOne(
        {
          _id: `${counterResource(key)}:${record.number}`,
          tenant: key.tenant,
          series: key.series,
          period: key.period,
          number: record.number,
          reason: record.reason,
          voidedAt: record.voidedAt,
        },
        { session },
      );
    } catch (e) {
      if (isDup(e)) throw alreadyVoided(key, record.number);
      throw e;
    }
  }

  async listVoids(key: CounterKey): Promise<VoidRecord[]> {
    const docs = await this.#voids
      .find({ tenant: key.tenant, series: key.series, period: key.period })
      .sort({ number: 1 })
      .toArray();
    return docs.map((d) => Object.freeze({ number: d.number, reason: d.reason, voidedAt: d.voidedAt }));
  }
}

/** Options of one Mongo in-transaction allocation. */
export interface MongoAllocateOptions {
  /** The caller's session, inside `session.withTransaction(...)`, which also writes the document. */
  session: ClientSession;
  issueDate?: IssueDateInput;
}

/** The MongoDB in-transaction sequencer. */
export interface MongoSequencer {
  /**
   * Take the next number by updating the counter document inside the caller's transaction. A concurrent
   * allocation gets a `WriteConflict` (transient) which `withTransaction` retries. Needs a replica set.
   * @throws SequencerError `SEQUENCER_CHRONOLOGY_VIOLATION` (abort the transaction), `SEQUENCER_ISSUE_DATE_REQUIRED`
   * @example await session.withTransaction(async () => { const n = await seq.next(invoices, { session }); await invoices.insertOne({ ...doc, number: n.number }, { session }); });
   */
  next(series: Series, options: MongoAllocateOptions): Promise<AllocatedNumber>;
  /** `count` consecutive numbers in the same transaction, all or none. */
  nextBatch(series: Series, count: number, options: MongoAllocateOptions): Promise<AllocatedNumber[]>;
  lastCommitted(series: Series, options?: { issueDate?: IssueDateInput }): Promise<number | null>;
  void(
    series: Series,
    number: number,
    options: { session?: ClientSession; issueDate?: IssueDateInput; reason: string },
  ): Promise<VoidRecord>;
}

/**
 * The MongoDB in-transaction sequencer (counter document updated in the caller's session transaction).
 * @example const seq = createMongoSequencer(client.db('app'));
 */
export function createMongoSequencer(db: Db, options: { clock?: Clock } = {}): MongoSequencer {
  const counters = db.collection<CounterDoc>(MONGO_COLLECTIONS.counters);
  const store = new MongoCounterStore(db);
  const clock = options.clock ?? systemClock;
  const allocate = async (series: Series, count: number, opts: MongoAllocateOptions) => {
    const req = resolveRequest(series, { issueDate: opts.issueDate, count });
    const { key } = req;
    const before = await counters.findOneAndUpdate(
      { _id: counterResource(key) },
      [
        {
          $set: {
            tenant: key.tenant,
            series: key.series,
            period: key.period,
            fence: { $ifNull: ['$fence', 0] },
            mark: { $add: [{ $ifNull: ['$mark', key.start - 1] }, req.count] },
            lastIssueDate: {
              $max: [{ $ifNull: ['$lastIssueDate', null] }, { $literal: req.issueDate ?? null }],
            },
          },
        },
      ],
      { upsert: true, returnDocument: 'before', session: opts.session },
    );
    if (
      series.chronology &&
      req.issueDate !== undefined &&
      before?.lastIssueDate != null &&
      req.issueDate < before.lastIssueDate
    ) {
      throw new SequencerError(
        'SEQUENCER_CHRONOLOGY_VIOLATION',
        `Issue date ${req.issueDate} is earlier than the last committed one in series ${key.series}; abort the transaction`,
        { details: { tenant: key.tenant, series: key.series, period: key.period } },
      );
    }
    const first = (before?.mark ?? key.start - 1) + 1;
    checkRange(key, first + req.count - 1);
    return buildAllocations(series, req, first);
  };
  return Object.freeze({
    next: async (series: Series, opts: MongoAllocateOptions) =>
      (await allocate(series, 1, opts))[0] as AllocatedNumber,
    nextBatch: allocate,
    lastCommitted: async (series: Series, opts: { issueDate?: IssueDateInput } = {}) =>
      (await store.peek(resolveRequest(series, opts).key)).mark,
    async void(
      series: Series,
      number: number,
      opts: { session?: ClientSession; issueDate?: IssueDateInput; reason: string },
    ) {
      const record = parseVoid(number, opts.reason, clock);
      await store.recordVoid(resolveRequest(series, opts).key, record, opts.session);
      return record;
    },
  });
}

/**
 * MongoDB lock backend: one lock document per counter with an `expireAt` date (TTL index from
 * {@link ensureMongoIndexes}), taken over only once expired by the server's clock (`$$NOW`), plus the
 * fencing token the TTL alone lacks: `max(previous + 1, server time in ms)`, so it keeps growing even
 * after the TTL monitor deleted an abandoned lock document.
 * @example const lock = new MongoLockBackend(client.db('app'));
 */
export class MongoLockBackend implements LockBackend {
  readonly kind = 'mongo';
  readonly #locks: Collection<LockDoc>;

  constructor(db: Db) {
    this.#locks = db.collection<LockDoc>(MONGO_COLLECTIONS.locks);
  }

  async acquire(key: CounterKey, options: AcquireOptions): Promise<LockLease> {
    const id = counterResource(key);
    const owner = randomBytes(12).toString('base64url');
    const deadline = Date.now() + options.waitMs;
    for (let backoff = 2; ; backoff = Math.min(backoff * 2, 50)) {
      try {
        const doc = await this.#locks.findOneAndUpdate(
          { _id: id, $expr: { $lte: ['$expireAt', '$$NOW'] } },
          [
            {
              $set: {
                owner,
                expireAt: { $add: ['$$NOW', options.ttlMs] },
                fence: { $max: [{ $add: [{ $ifNull: ['$fence', 0] }, 1] }, { $toLong: '$$NOW' }] },
              },
            },
          ],
          { upsert: true, returnDocument: 'after' },
        );
        if (doc?.owner === owner) return this.#lease(id, owner, Number(doc.fence));
      } catch (e) {
        if (!isDup(e)) throw e;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw lockTimeout(key, options.waitMs);
      await sleep(Math.max(1, Math.min(left, backoff * (0.5 + Math.random()))));
    }
  }

  #lease(id: string, owner: string, fence: number): LockLease {
    return Object.freeze({
      fence,
      renew: async (ttlMs: number) => {
        const r = await this.#locks.updateOne({ _id: id, owner, $expr: { $gt: ['$expireAt', '$$NOW'] } }, [
          { $set: { expireAt: { $add: ['$$NOW', ttlMs] } } },
        ]);
        return r.matchedCount === 1;
      },
      release: async () => {
        await this.#locks.deleteOne({ _id: id, owner });
      },
    });
  }
}
