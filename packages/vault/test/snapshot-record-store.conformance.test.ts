import { hasBackend, skipLabel, useMongoDatabase, useTestDatabase } from '@tenantry/testkit';
import { runMigrations } from '@tenantry/core/postgres';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySnapshotRecordStore } from '../src/memory.js';
import { MongoSnapshotRecordStore, ensureVaultIndexes } from '../src/mongo.js';
import { PostgresSnapshotRecordStore, vaultMigrations } from '../src/postgres.js';
import { snapshotRecordStoreConformance } from '../src/testing.js';

const pgDb = hasBackend('postgres') ? useTestDatabase() : undefined;
const mongo = hasBackend('mongo') ? useMongoDatabase() : undefined;

describe('memory', () => {
  snapshotRecordStoreConformance(() => ({ store: new MemorySnapshotRecordStore() }), {
    describe,
    it,
    expect,
  });
});

describe.skipIf(!hasBackend('postgres'))(`postgres${skipLabel('postgres')}`, () => {
  let pool: pg.Pool;
  let store: PostgresSnapshotRecordStore;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: pgDb?.url(), max: 3 });
    await runMigrations(pool, vaultMigrations);
    store = new PostgresSnapshotRecordStore({ pool });
  });
  afterAll(() => pool?.end());
  snapshotRecordStoreConformance(() => ({ store }), { describe, it, expect });

  it('answers VAULT_NOT_MIGRATED without the table', async () => {
    const bare = new pg.Pool({ connectionString: pgDb?.url(), max: 1 });
    try {
      await bare.query('CREATE SCHEMA IF NOT EXISTS empty_vault');
      await bare.query('SET search_path TO empty_vault');
      const s = new PostgresSnapshotRecordStore({ pool: bare });
      await expect(s.list('t')).rejects.toMatchObject({ code: 'VAULT_NOT_MIGRATED' });
    } finally {
      await bare.end();
    }
  });
});

describe.skipIf(!hasBackend('mongo'))(`mongo${skipLabel('mongo')}`, () => {
  let client: MongoClient;
  let store: MongoSnapshotRecordStore;
  beforeAll(async () => {
    client = new MongoClient(mongo?.url() ?? '');
    const db = client.db(mongo?.name());
    await ensureVaultIndexes(db);
    store = new MongoSnapshotRecordStore({ db });
  });
  afterAll(() => client?.close());
  snapshotRecordStoreConformance(() => ({ store }), { describe, it, expect });
});
