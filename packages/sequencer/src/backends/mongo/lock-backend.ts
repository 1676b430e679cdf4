import { assertChange, assertCounterKey } from '../../counter-store.js';
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import {
  type AcquireOptions,
  counterResource,
  type LockBackend,
  type LockLease,
  lockTimeout,
  sleep,
} from '../../lock-backend.js';
import type { CounterKey } from '../../series.js';
import { isDup, type LockDoc, MONGO_COLLECTIONS, mapMongoError, requireDb } from './schema.js';

/** Options of {@link MongoLockBackend}. */
export interface MongoLockBackendOptions {
  /** The user's database handle; never closed by the backend. */
  db: Db;
}

/**
 * MongoDB lock backend: one lock document per counter with an `expireAt` date (TTL index from
 * `ensureSequencerIndexes`), taken over only once expired by the server's clock (`$$NOW`), plus the
 * fencing token the TTL alone lacks: `max(previous + 1, server time in ms)`, so it keeps growing even
 * after the TTL monitor deleted an abandoned lock document.
 * @example const lock = new MongoLockBackend({ db: client.db('app') });
 */
export class MongoLockBackend implements LockBackend {
  readonly kind = 'mongo';
  readonly #locks: Collection<LockDoc>;

  /** @param options.db the user's database handle (not closed by the backend) */
  constructor(options: MongoLockBackendOptions) {
    this.#locks = requireDb(options, 'MongoLockBackend').collection<LockDoc>(MONGO_COLLECTIONS.locks);
  }

  async acquire(key: CounterKey, options: AcquireOptions): Promise<LockLease> {
    assertCounterKey(key);
    assertChange(options, ['ttlMs', 'waitMs']);
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
        if (!isDup(e)) throw mapMongoError(e, key);
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
