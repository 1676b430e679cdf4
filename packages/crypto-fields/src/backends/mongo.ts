import type { Db } from 'mongodb';
import type { DataKeyRecord, DataKeyStore } from '../data-key-store.js';
import { CryptoFieldsError } from '../errors.js';
import type { DataKeyPurpose } from '../key-provider.js';
import type { CheckpointStore, RotationCheckpoint } from '../rotation.js';

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
  /** @default 'tenantry_crypto_data_keys' */
  collection?: string;
}

/**
 * {@link DataKeyStore} in MongoDB. A unique index on `{tenantId, keyId}` and a partial unique index on
 * `{tenantId, purpose}` where `primary: true` keep one primary per tenant and purpose. `promote` uses a
 * transaction (needs a replica set, as every MongoDB transaction does). Shard key: `{ tenantId: 1 }`.
 * @example const store = new MongoDataKeyStore({ db: client.db('app') }); await store.ensureIndexes();
 */
export class MongoDataKeyStore implements DataKeyStore {
  readonly name = 'mongo';
  readonly #db: Db;
  readonly #name: string;
  constructor(options: MongoDataKeyStoreOptions) {
    this.#db = options.db;
    this.#name = options.collection ?? 'tenantry_crypto_data_keys';
  }
  get #c() {
    return this.#db.collection<KeyDoc>(this.#name);
  }
  /** Create the indexes the contract relies on (idempotent). */
  async ensureIndexes(): Promise<void> {
    await this.#c.createIndex({ tenantId: 1, keyId: 1 }, { unique: true });
    await this.#c.createIndex(
      { tenantId: 1, purpose: 1 },
      { unique: true, partialFilterExpression: { primary: true }, name: 'one_primary' },
    );
  }
  async createPrimaryIfAbsent(r: DataKeyRecord): Promise<DataKeyRecord> {
    try {
      await this.#c.insertOne({ ...r, primary: true });
    } catch (e) {
      if (!isDuplicate(e)) throw e;
    }
    const now = await this.getPrimary(r.tenantId, r.purpose);
    if (now === null) throw new CryptoFieldsError('KEY_STORE_FAILED', 'No primary data key after insert');
    return now;
  }
  async promote(r: DataKeyRecord): Promise<void> {
    const session = this.#db.client.startSession();
    try {
      await session.withTransaction(async () => {
        await this.#c.updateMany(
          { tenantId: r.tenantId, purpose: r.purpose, primary: true },
          { $set: { primary: false } },
          { session },
        );
        await this.#c.insertOne({ ...r, primary: true }, { session });
      });
    } finally {
      await session.endSession();
    }
  }
  async get(tenantId: string, keyId: string): Promise<DataKeyRecord | null> {
    const d = await this.#c.findOne({ tenantId, keyId }, { projection: PROJECTION });
    return d ? toRecord(d) : null;
  }
  async getPrimary(tenantId: string, purpose: DataKeyPurpose): Promise<DataKeyRecord | null> {
    const d = await this.#c.findOne({ tenantId, purpose, primary: true }, { projection: PROJECTION });
    return d ? toRecord(d) : null;
  }
  async list(tenantId: string): Promise<DataKeyRecord[]> {
    const docs = await this.#c
      .find({ tenantId }, { projection: PROJECTION })
      .sort({ createdAt: 1, keyId: 1 })
      .toArray();
    return docs.map(toRecord);
  }
  async tenantsNotWrappedBy(kekId: string): Promise<string[]> {
    return (await this.#c.distinct('tenantId', { kekId: { $ne: kekId } })).sort();
  }
  async rewrap(
    tenantId: string,
    keyId: string,
    expectedKekId: string,
    w: { kekId: string; wrappedKey: string },
  ): Promise<boolean> {
    const res = await this.#c.updateOne(
      { tenantId, keyId, kekId: expectedKekId },
      { $set: { kekId: w.kekId, wrappedKey: w.wrappedKey } },
    );
    return res.modifiedCount > 0;
  }
  async deleteKey(tenantId: string, keyId: string): Promise<boolean> {
    return (await this.#c.deleteOne({ tenantId, keyId, primary: false })).deletedCount > 0;
  }
  async deleteTenant(tenantId: string): Promise<number> {
    return (await this.#c.deleteMany({ tenantId })).deletedCount;
  }
}

/** Options of {@link MongoCheckpointStore}. */
export interface MongoCheckpointStoreOptions {
  db: Db;
  /** @default 'tenantry_crypto_rotation_checkpoints' */
  collection?: string;
}

/** Rotation checkpoints in MongoDB (one document per job). */
export class MongoCheckpointStore implements CheckpointStore {
  readonly name = 'mongo';
  readonly #db: Db;
  readonly #name: string;
  constructor(options: MongoCheckpointStoreOptions) {
    this.#db = options.db;
    this.#name = options.collection ?? 'tenantry_crypto_rotation_checkpoints';
  }
  get #c() {
    return this.#db.collection<{ _id: string; checkpoint: RotationCheckpoint }>(this.#name);
  }
  async load(jobId: string): Promise<RotationCheckpoint | null> {
    return (await this.#c.findOne({ _id: jobId }))?.checkpoint ?? null;
  }
  async save(jobId: string, checkpoint: RotationCheckpoint): Promise<void> {
    await this.#c.updateOne({ _id: jobId }, { $set: { checkpoint } }, { upsert: true });
  }
  async clear(jobId: string): Promise<void> {
    await this.#c.deleteOne({ _id: jobId });
  }
}
