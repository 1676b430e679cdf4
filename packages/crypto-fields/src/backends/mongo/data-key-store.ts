import type { Db } from 'mongodb';
import {
  type DataKeyRecord,
  type DataKeyStore,
  checkKekId,
  checkStoreArgs,
  checkStoreRecord,
  checkWrapped,
} from '../../data-key-store.js';
import { CryptoFieldsError } from '../../errors.js';
import type { DataKeyPurpose } from '../../key-provider.js';
import { mongoStoreError } from './errors.js';
import { DEFAULT_DATA_KEYS_COLLECTION, checkMongoStoreOptions } from './indexes.js';

interface KeyDoc {
  tenantId: string;
  keyId: string;
  purpose: DataKeyPurpose;
  kekId: string;
  wrappedKey: string;
  primary: boolean;
  createdAt: Date;
}

const toRecord = (d: KeyDoc): DataKeyRecord => ({
  tenantId: d.tenantId,
  keyId: d.keyId,
  purpose: d.purpose,
  kekId: d.kekId,
  wrappedKey: d.wrappedKey,
  primary: d.primary,
  createdAt: new Date(d.createdAt),
});
const PROJECTION = {
  _id: 0,
  tenantId: 1,
  keyId: 1,
  purpose: 1,
  kekId: 1,
  wrappedKey: 1,
  primary: 1,
  createdAt: 1,
} as const;
const isDuplicate = (e: unknown) =>
  typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 11000;

/** Options of {@link MongoDataKeyStore}. */
export interface MongoDataKeyStoreOptions {
  /** The database (from the official driver's `MongoClient.db()`). */
  db: Db;
  /** @default 'tenantry_crypto_data_keys' (then pass the same name to `ensureCryptoFieldsIndexes`) */
  collection?: string;
}

/**
 * {@link DataKeyStore} in MongoDB. A unique index on `{tenantId, keyId}` and a partial unique index on
 * `{tenantId, purpose}` where `primary: true` keep one primary per tenant and purpose. `promote` uses a
 * transaction (needs a replica set, as every MongoDB transaction does). Shard key: `{ tenantId: 1 }`.
 * Create the indexes once with {@link ensureCryptoFieldsIndexes}. Driver errors come out as
 * `CRYPTO_STORE_UNAVAILABLE` or `CRYPTO_KEY_STORE_FAILED` (the driver error as `cause`).
 * @example const db = client.db('app'); await ensureCryptoFieldsIndexes(db); const store = new MongoDataKeyStore({ db });
 */
export class MongoDataKeyStore implements DataKeyStore {
  readonly name = 'mongo';
  readonly #db: Db;
  readonly #name: string;
  constructor(options: MongoDataKeyStoreOptions) {
    checkMongoStoreOptions(options, 'mongo data key store options');
    this.#db = options.db;
    this.#name = options.collection ?? DEFAULT_DATA_KEYS_COLLECTION;
  }
  get #c() {
    return this.#db.collection<KeyDoc>(this.#name);
  }
  async createPrimaryIfAbsent(r: DataKeyRecord): Promise<DataKeyRecord> {
    r = checkStoreRecord(r);
    try {
      await this.#c.insertOne({ ...r, primary: true });
    } catch (e) {
      if (!isDuplicate(e)) throw mongoStoreError(e, 'createPrimaryIfAbsent');
    }
    const now = await this.getPrimary(r.tenantId, r.purpose);
    if (now === null)
      throw new CryptoFieldsError('CRYPTO_KEY_STORE_FAILED', 'No primary data key after insert');
    return now;
  }
  async promote(r: DataKeyRecord): Promise<void> {
    r = checkStoreRecord(r);
    const session = this.#db.client.startSession();
    try {
      await this.#promote(r, session);
    } catch (error) {
      throw mongoStoreError(error, 'promote');
    } finally {
      await session.endSession().catch(() => undefined);
    }
  }
  async #promote(r: DataKeyRecord, session: ReturnType<Db['client']['startSession']>): Promise<void> {
    await session.withTransaction(async () => {
      await this.#c.updateMany(
        { tenantId: r.tenantId, purpose: r.purpose, primary: true },
        { $set: { primary: false } },
        { session },
      );
      await this.#c.insertOne({ ...r, primary: true }, { session });
    });
  }
  async #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mongoStoreError(error, operation);
    }
  }
  async get(tenantId: string, keyId: string): Promise<DataKeyRecord | null> {
    checkStoreArgs(tenantId, keyId);
    const d = await this.#run('get', () => this.#c.findOne({ tenantId, keyId }, { projection: PROJECTION }));
    return d ? toRecord(d) : null;
  }
  async getPrimary(tenantId: string, purpose: DataKeyPurpose): Promise<DataKeyRecord | null> {
    checkStoreArgs(tenantId, undefined, purpose);
    const d = await this.#run('getPrimary', () =>
      this.#c.findOne({ tenantId, purpose, primary: true }, { projection: PROJECTION }),
    );
    return d ? toRecord(d) : null;
  }
  async list(tenantId: string): Promise<DataKeyRecord[]> {
    checkStoreArgs(tenantId);
    const docs = await this.#run('list', () =>
      this.#c.find({ tenantId }, { projection: PROJECTION }).sort({ createdAt: 1, keyId: 1 }).toArray(),
    );
    return docs.map(toRecord);
  }
  async tenantsNotWrappedBy(kekId: string): Promise<string[]> {
    checkKekId(kekId);
    return (
      await this.#run('tenantsNotWrappedBy', () => this.#c.distinct('tenantId', { kekId: { $ne: kekId } }))
    ).sort();
  }
  async rewrap(
    tenantId: string,
    keyId: string,
    expectedKekId: string,
    w: { kekId: string; wrappedKey: string },
  ): Promise<boolean> {
    checkStoreArgs(tenantId, keyId);
    checkKekId(expectedKekId);
    checkWrapped(w);
    const res = await this.#run('rewrap', () =>
      this.#c.updateOne(
        { tenantId, keyId, kekId: expectedKekId },
        { $set: { kekId: w.kekId, wrappedKey: w.wrappedKey } },
      ),
    );
    return res.modifiedCount > 0;
  }
  async deleteKey(tenantId: string, keyId: string): Promise<boolean> {
    checkStoreArgs(tenantId, keyId);
    return (
      (await this.#run('deleteKey', () => this.#c.deleteOne({ tenantId, keyId, primary: false })))
        .deletedCount > 0
    );
  }
  async deleteTenant(tenantId: string): Promise<number> {
    checkStoreArgs(tenantId);
    return (await this.#run('deleteTenant', () => this.#c.deleteMany({ tenantId }))).deletedCount;
  }
}
