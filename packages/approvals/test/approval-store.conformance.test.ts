import { hasBackend, skipLabel, useMongoDatabase } from '@tenantry/testkit';
import { MongoClient } from 'mongodb';
import { Pool as PgPool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryApprovalStore } from '../src/memory.js';
import { MongoApprovalStore, ensureApprovalsIndexes } from '../src/mongo.js';
import { PostgresApprovalStore } from '../src/postgres.js';
import { approvalStoreConformance } from '../src/testing.js';
import { migrated, usePostgres } from './helpers.js';

const pg = usePostgres();
const mongo = hasBackend('mongo') ? useMongoDatabase() : undefined;

describe('memory', () => {
  approvalStoreConformance(() => ({ store: new MemoryApprovalStore() }), { describe, it, expect });
});

// Once awaiting each reply, once in `pg`'s pipeline mode (BEGIN and savepoints written with the
// statements behind them).
for (const pipeline of [false, true]) {
  describe.skipIf(!hasBackend('postgres'))(
    `postgres${pipeline ? ' (pg pipeline mode)' : ''}${skipLabel('postgres')}`,
    () => {
      let store: PostgresApprovalStore;
      let pool: PgPool;
      beforeAll(async () => {
        pool = pipeline ? new PgPool({ connectionString: pg.url(), max: 6, pipeline: true }) : pg.pool();
        store = new PostgresApprovalStore({ pool: await migrated(pool) });
      });
      afterAll(() => pool.end());
      approvalStoreConformance(() => ({ store }), { describe, it, expect });
    },
  );
}

describe.skipIf(!hasBackend('mongo'))(`mongo${skipLabel('mongo')}`, () => {
  let client: MongoClient;
  let store: MongoApprovalStore;
  beforeAll(async () => {
    client = new MongoClient(mongo!.url());
    const db = client.db(mongo!.name());
    await ensureApprovalsIndexes(db);
    store = new MongoApprovalStore({ db });
  });
  afterAll(() => client?.close());
  approvalStoreConformance(() => ({ store }), { describe, it, expect });
});
