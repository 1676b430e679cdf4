import type { Collection, Db } from 'mongodb';
import { VaultError } from '../../errors.js';
import type { SnapshotListQuery, SnapshotRecord, SnapshotRecordStore } from '../../snapshot-record-store.js';
import { mapMongoError } from './errors.js';

/** The collection of snapshot records. */
export const SNAPSHOTS_COLLECTION = 'tenantry_vault_snapshots';

interface RecordDoc {
  _id: string; // `${tenantId}:${id}`
  tenantId: string;
  id: string;
  kind: 'snapshot' | 'safety';
  status: 'writing' | 'complete' | 'failed';
  checksum: string;
  size: number;
  createdBy: string;
  createdAt: Date;
}

/** Options of {@link MongoSnapshotRecordStore}. */
export interface MongoSnapshotRecordStoreOptions {
  /** Your database handle (`client.db(name)`); run {@link ensureVaultIndexes} once. */
  db: Db;
}

const toRecord = (d: RecordDoc): SnapshotRecord => ({
  id: d.id,
  tenantId: d.tenantId,
  kind: d.kind,
  status: d.status,
  checksum: d.checksum,
  size: d.size,
  createdBy: d.createdBy,
  createdAt: new Date(d.createdAt),
});

/**
 * Creates the vault's MongoDB indexes (tenant first, so the collection can be sharded by tenant).
 * @example await ensureVaultIndexes(client.db('app'));
 */
export async function ensureVaultIndexes(db: Db): Promise<void> {
  if (typeof db?.collection !== 'function')
    throw new VaultError('VAULT_CONFIG_INVALID', 'ensureVaultIndexes needs a MongoDB Db');
  try {
    await db
      .collection<RecordDoc>(SNAPSHOTS_COLLECTION)
      .createIndex({ tenantId: 1, createdAt: -1, id: -1 }, { name: 'tenant_time' });
  } catch (error) {
    throw mapMongoError(error, 'records');
  }
}

/**
 * {@link SnapshotRecordStore} on MongoDB (`tenantry_vault_snapshots`). Written against the official
 * driver (mongodb 6/7); every query names the tenant.
 * @example const records = new MongoSnapshotRecordStore({ db: client.db('app') });
 */
export class MongoSnapshotRecordStore implements SnapshotRecordStore {
  readonly #c: Collection<RecordDoc>;
  constructor(options: MongoSnapshotRecordStoreOptions) {
    if (typeof options?.db?.collection !== 'function')
      throw new VaultError('VAULT_CONFIG_INVALID', 'MongoSnapshotRecordStore needs { db }');
    this.#c = options.db.collection<RecordDoc>(SNAPSHOTS_COLLECTION);
  }

  async #run<R>(fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (error) {
      throw mapMongoError(error, 'records');
    }
  }

  insert(r: SnapshotRecord): Promise<void> {
    return this.#run(async () => {
      await this.#c.insertOne({
        _id: `${r.tenantId}:${r.id}`,
        ...r,
        createdAt: new Date(r.createdAt.getTime()),
      });
    });
  }

  finish(
    tenantId: string,
    id: string,
    patch: { status: 'complete' | 'failed'; checksum: string; size: number },
  ): Promise<boolean> {
    return this.#run(async () => {
      const r = await this.#c.updateOne({ _id: `${tenantId}:${id}`, tenantId }, { $set: patch });
      return r.matchedCount > 0;
    });
  }

  get(tenantId: string, id: string): Promise<SnapshotRecord | null> {
    return this.#run(async () => {
      const d = await this.#c.findOne({ _id: `${tenantId}:${id}`, tenantId });
      return d ? toRecord(d) : null;
    });
  }

  list(tenantId: string, query: SnapshotListQuery = {}): Promise<SnapshotRecord[]> {
    return this.#run(async () => {
      const filter: Record<string, unknown> = { tenantId };
      if (query.before) filter.createdAt = { $lt: query.before };
      if (query.status) filter.status = query.status;
      if (query.kind) filter.kind = query.kind;
      let cursor = this.#c.find(filter).sort({ createdAt: -1, id: -1 });
      if (query.limit !== undefined) cursor = cursor.limit(query.limit);
      return (await cursor.toArray()).map(toRecord);
    });
  }

  delete(tenantId: string, id: string): Promise<boolean> {
    return this.#run(
      async () => (await this.#c.deleteOne({ _id: `${tenantId}:${id}`, tenantId })).deletedCount > 0,
    );
  }
}
