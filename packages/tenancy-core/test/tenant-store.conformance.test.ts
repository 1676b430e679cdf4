import { hasBackend, runConformance, useMongoDatabase, useTestDatabase } from '@tenantry/testkit';
import { PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import { MongoClient } from 'mongodb';
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
    // Once per PostgreSQL client kind (node-postgres, Kysely, Drizzle, postgres.js); idle pg clients
    // get 57P01 when the file's database is dropped WITH (FORCE): the kinds listen for it.
    ...PG_CLIENT_KINDS.map((kind) => ({
      name: `postgres (${kind.name})`,
      needs: 'postgres' as const,
      setup: async () => {
        const { pool, close } = kind.open(db.url(), { max: 6 });
        await runMigrations(pool, coreModelMigrations);
        return { store: new PostgresTenantStore({ pool }), close };
      },
      teardown: (h: Harness) => h.close(),
    })),
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
