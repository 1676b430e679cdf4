import { hasBackend, skipLabel, useMongoDatabase } from '@tenantry/testkit';
import { type OpenPgClient, PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
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

// Once per PostgreSQL client kind (node-postgres, Kysely, Drizzle, postgres.js).
for (const kind of PG_CLIENT_KINDS) {
  describe.skipIf(!hasBackend('postgres'))(`postgres (${kind.name})${skipLabel('postgres')}`, () => {
    let store: PostgresApprovalStore;
    let client: OpenPgClient | undefined;
    beforeAll(async () => {
      await migrated(pg.pool());
      client = kind.open(pg.url(), { max: 6 });
      store = new PostgresApprovalStore({ pool: client.pool });
    });
    afterAll(() => client?.close());
    approvalStoreConformance(() => ({ store }), { describe, it, expect });
  });
}
afterAll(() => (hasBackend('postgres') ? pg.pool().end() : undefined));

// Once more on node-postgres in pipeline mode (BEGIN and savepoints written with the statements
// behind them).
describe.skipIf(!hasBackend('postgres'))(`postgres (pg pipeline mode)${skipLabel('postgres')}`, () => {
  let store: PostgresApprovalStore;
  let pool: PgPool;
  beforeAll(async () => {
    pool = new PgPool({ connectionString: pg.url(), max: 6, pipeline: true });
    store = new PostgresApprovalStore({ pool: await migrated(pool) });
  });
  afterAll(() => pool.end());
  approvalStoreConformance(() => ({ store }), { describe, it, expect });
});

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
