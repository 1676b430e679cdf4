import { hasBackend, runConformance, useMongoDatabase, useTestDatabase } from '@tenantry/testkit';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MemoryTenantStore } from '../src/memory.js';
import { MongoTenantStore } from '../src/mongo.js';
import { PostgresTenantStore, coreModelMigrations, runMigrations } from '../src/postgres.js';
import { type TenantStoreHarness, tenantStoreConformance } from '../src/testing.js';

const db = useTestDatabase();
// useMongoDatabase fails its hook when Mongo is absent, so register it only when the case will run.
const mongo = hasBackend('mongo') ? useMongoDatabase() : { url: () => '', name: () => '' };

interface Harness extends TenantStoreHarness {
  close: () => Promise<void>;
}

runConformance<Harness>(
  'TenantStore',
  [
    { name: 'memory', setup: () => ({ store: new MemoryTenantStore(), close: async () => undefined }) },
    {
      name: 'postgres',
      needs: 'postgres',
      setup: async () => {
        const pool = new pg.Pool({ connectionString: db.url(), max: 6 });
        // A client still idle when the file's database is dropped WITH (FORCE) gets 57P01; expected here.
        pool.on('error', () => undefined);
        await runMigrations(pool, coreModelMigrations);
        return { store: new PostgresTenantStore({ pool }), close: () => pool.end() };
      },
      teardown: (h) => h.close(),
    },
    {
      name: 'mongo',
      needs: 'mongo',
      setup: async () => {
        const client = await MongoClient.connect(mongo.url());
        const store = new MongoTenantStore({ db: client.db(mongo.name()), client });
        await store.ensureIndexes();
        return { store, close: () => store.close() };
      },
      teardown: (h) => h.close(),
    },
  ],
  (h) => tenantStoreConformance(h, { describe, it, expect }),
);

// The harness contract allows a fresh store per call: each test calls harness() once and keeps it.
describe('TenantStore: memory, a fresh store per harness call', () =>
  tenantStoreConformance(() => ({ store: new MemoryTenantStore() }), { describe, it, expect }));
