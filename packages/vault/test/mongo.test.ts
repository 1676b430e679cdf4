import { hasBackend, skipLabel, useMongoDatabase } from '@tenantry/testkit';
import { BSON, type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModuleRegistry, createVault } from '../src/index.js';
import { MemorySnapshotStorage } from '../src/memory.js';
import { MongoSnapshotRecordStore, ensureVaultIndexes, mongoCollectionModule } from '../src/mongo.js';
import { MemoryMaintenance, asTenant, newCrypto } from './helpers.js';

const mongo = hasBackend('mongo') ? useMongoDatabase() : undefined;

describe.skipIf(!hasBackend('mongo'))(`vault on MongoDB, three tenants${skipLabel('mongo')}`, () => {
  let client: MongoClient;
  let db: Db;
  beforeAll(async () => {
    client = new MongoClient(mongo?.url() ?? '');
    db = client.db(mongo?.name());
    await ensureVaultIndexes(db);
    for (const t of ['a', 'b', 'c']) {
      await db
        .collection('contacts')
        .insertMany(
          Array.from({ length: 20 }, (_, i) => ({ tenantId: t, n: i, name: `c${i}`, at: new Date(i) })),
        );
      await db
        .collection('messages')
        .insertMany(
          Array.from({ length: 50 }, (_, i) => ({ tenantId: t, n: i, contact: i % 20, body: `m${i}` })),
        );
    }
  });
  afterAll(() => client?.close());

  const dump = async (tenantId: string) =>
    JSON.stringify([
      await db.collection('contacts').find({ tenantId }).sort({ _id: 1 }).toArray(),
      await db.collection('messages').find({ tenantId }).sort({ _id: 1 }).toArray(),
    ]);

  it('snapshot A, change A, restore: A equals the snapshot, B and C identical; a failed import rolls back via the safety snapshot', async () => {
    const contacts = mongoCollectionModule(db.collection('contacts'), BSON);
    const messages = mongoCollectionModule(db.collection('messages'), BSON, { dependsOn: ['contacts'] });
    const maintenance = new MemoryMaintenance();
    const vault = createVault({
      registry: createModuleRegistry([contacts, messages]),
      storage: new MemorySnapshotStorage(),
      records: new MongoSnapshotRecordStore({ db }),
      crypto: newCrypto(),
      maintenance,
    });
    const atSnapshot = await dump('a');
    const others = (await dump('b')) + (await dump('c'));
    const snap = await asTenant('a', () => vault.snapshot());
    await db.collection('messages').deleteMany({ tenantId: 'a', n: { $lt: 10 } });
    await db.collection('contacts').updateMany({ tenantId: 'a' }, { $set: { name: 'changed' } });
    const report = await asTenant('a', () => vault.restore({ snapshotId: snap.snapshotId }));
    expect(report.mode).toBe('safety-snapshot');
    expect(await dump('a')).toBe(atSnapshot);
    expect((await dump('b')) + (await dump('c'))).toBe(others);
    expect(maintenance.on.size).toBe(0);
  });
});
