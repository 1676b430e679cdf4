import { assertChange, assertCounterKey } from '../../counter-store.js';
import type { ClientSession, Collection, Db } from 'mongodb';
import {
  alreadyVoided,
  type CounterState,
  type CounterStore,
  checkVoid,
  conflict,
  fenced,
  type VoidRecord,
} from '../../counter-store.js';
import { counterResource } from '../../lock-backend.js';
import type { CounterKey } from '../../series.js';
import {
  type CounterDoc,
  isDup,
  MONGO_COLLECTIONS,
  mapMongoError,
  requireDb,
  type VoidDoc,
} from './schema.js';

const toState = (d: CounterDoc | null | undefined): CounterState => ({
  mark: d?.mark ?? null,
  lastIssueDate: d?.lastIssueDate ?? null,
});

/** Options of {@link MongoCounterStore}. */
export interface MongoCounterStoreOptions {
  /** The user's database handle; never closed by the store. */
  db: Db;
}

/**
 * MongoDB counter store (official driver). Works for the callback form on any deployment; for the
 * in-transaction form use {@link createMongoSequencer}, which needs a replica set or sharded cluster.
 * @example const store = new MongoCounterStore({ db: client.db('app') });
 */
export class MongoCounterStore implements CounterStore {
  readonly kind = 'mongo';
  readonly capabilities = Object.freeze({ sharesTransactionWithDocuments: true, ownsConnection: false });
  readonly #counters: Collection<CounterDoc>;
  readonly #voids: Collection<VoidDoc>;

  /** @param options.db the user's database handle (not closed by the store) */
  constructor(options: MongoCounterStoreOptions) {
    const db = requireDb(options, 'MongoCounterStore');
    this.#counters = db.collection<CounterDoc>(MONGO_COLLECTIONS.counters);
    this.#voids = db.collection<VoidDoc>(MONGO_COLLECTIONS.voids);
  }

  async read(key: CounterKey, fence: number): Promise<CounterState> {
    assertCounterKey(key);
    assertChange({ fence }, ['fence']);
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
      if (isDup(e)) {
        const seen = await this.#counters.findOne({ _id: counterResource(key) }).catch(() => null);
        throw fenced(key, fence, seen?.fence);
      }
      throw mapMongoError(e, key);
    }
  }

  async peek(key: CounterKey): Promise<CounterState> {
    assertCounterKey(key);
    try {
      return toState(await this.#counters.findOne({ _id: counterResource(key) }));
    } catch (e) {
      throw mapMongoError(e, key);
    }
  }

  async advance(
    key: CounterKey,
    change: { from: number | null; to: number; fence: number; issueDate?: string | undefined },
  ): Promise<void> {
    assertCounterKey(key);
    assertChange(change, ['from', 'to', 'fence', 'issueDate']);
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
      if (!isDup(e)) throw mapMongoError(e, key);
    }
    const now = await this.#counters.findOne({ _id: counterResource(key) }).catch((e: unknown) => {
      throw mapMongoError(e, key);
    });
    if (now && now.fence > change.fence) throw fenced(key, change.fence, now.fence);
    throw conflict(key);
  }

  async recover(key: CounterKey, change: { committed: number | null; fence: number }): Promise<CounterState> {
    assertCounterKey(key);
    assertChange(change, ['committed', 'fence']);
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
      throw mapMongoError(e, key);
    }
  }

  async recordVoid(key: CounterKey, record: VoidRecord, session?: ClientSession): Promise<void> {
    assertCounterKey(key);
    assertChange(record, ['number', 'record']);
    let c: CounterDoc | null;
    try {
      c = await this.#counters.findOne({ _id: counterResource(key) }, { session });
    } catch (e) {
      throw mapMongoError(e, key);
    }
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
      throw mapMongoError(e, key);
    }
  }

  async listVoids(key: CounterKey): Promise<VoidRecord[]> {
    assertCounterKey(key);
    let docs: VoidDoc[];
    try {
      docs = await this.#voids
        .find({ tenant: key.tenant, series: key.series, period: key.period })
        .sort({ number: 1 })
        .toArray();
    } catch (e) {
      throw mapMongoError(e, key);
    }
    return docs.map((d) => Object.freeze({ number: d.number, reason: d.reason, voidedAt: d.voidedAt }));
  }
}
