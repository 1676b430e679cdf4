import {
  type BackendCase,
  hasBackend,
  runConformance,
  useMongoDatabase,
  useTestDatabase,
} from '@tenantry/testkit';
import { PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import { MemoryCheckpointStore, MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import {
  MongoCheckpointStore,
  MongoDataKeyStore,
  ensureCryptoFieldsIndexes,
} from '@tenantry/crypto-fields/mongo';
import {
  PostgresCheckpointStore,
  PostgresDataKeyStore,
  cryptoFieldsMigrations,
} from '@tenantry/crypto-fields/postgres';
import { runMigrations } from '@tenantry/core/postgres';
import {
  type CheckpointStoreHarness,
  type DataKeyStoreHarness,
  dataKeyStoreConformance,
} from '@tenantry/crypto-fields/testing';
import { describe, expect, it } from 'vitest';

type Harness = DataKeyStoreHarness & CheckpointStoreHarness & { close?: () => Promise<void> };

const db = useTestDatabase();
const mongo = hasBackend('mongo') ? useMongoDatabase() : undefined;

const cases: BackendCase<Harness>[] = [
  {
    name: 'memory',
    setup: () => ({ store: new MemoryDataKeyStore(), checkpoints: new MemoryCheckpointStore() }),
  },
  // Once per PostgreSQL client kind (node-postgres, Kysely, Drizzle, postgres.js). The test database is
  // dropped WITH (FORCE) at the end of the file: idle clients then get 57P01, which the kinds listen for.
  ...PG_CLIENT_KINDS.map(
    (kind): BackendCase<Harness> => ({
      name: `postgres (${kind.name})`,
      needs: 'postgres',
      setup: async () => {
        const { pool, close } = kind.open(db.url(), { max: 6 });
        await runMigrations(pool, cryptoFieldsMigrations);
        const store = new PostgresDataKeyStore({ pool });
        const checkpoints = new PostgresCheckpointStore({ pool });
        return { store, checkpoints, close };
      },
      teardown: (h) => h.close?.(),
    }),
  ),
  {
    name: 'mongo',
    needs: 'mongo',
    setup: async () => {
      const { MongoClient } = await import('mongodb');
      const client = new MongoClient(mongo!.url());
      await client.connect();
      const database = client.db(mongo!.name());
      await ensureCryptoFieldsIndexes(database);
      const store = new MongoDataKeyStore({ db: database });
      return { store, checkpoints: new MongoCheckpointStore({ db: database }), close: () => client.close() };
    },
    teardown: (h) => h.close?.(),
  },
];

runConformance('DataKeyStore', cases, (h) => dataKeyStoreConformance(h, { describe, it, expect }));
