import { settledCode } from '@tenantry/core/testing';
import { hasBackend, skipLabel, useMongoDatabase, useTestDatabase } from '@tenantry/testkit';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VaultModule, assertCoverage, checkCoverage, createModuleRegistry } from '../src/index.js';
import { createPostgresTransactionScope, postgresTableModule } from '../src/postgres.js';

const db = useTestDatabase();
const mongo = hasBackend('mongo') ? useMongoDatabase() : { url: () => '', name: () => '' };

/** A module whose data functions are never called by the coverage check: only its declaration matters. */
const declared = (
  name: string,
  covers: { postgres?: string[]; mongo?: string[] },
  dependsOn: string[] = [],
): VaultModule =>
  ({
    name,
    schemaVersion: 1,
    dependsOn,
    covers,
    async *export() {},
    async import() {},
    async clean() {},
  }) as VaultModule;

describe(`checkCoverage on PostgreSQL (V5)${skipLabel('postgres')}`, () => {
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: db.url(), max: 2 });
    await pool.query(`
      CREATE SCHEMA billing;
      CREATE TABLE users (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id));
      CREATE TABLE tasks (tenant_id text NOT NULL, id int, user_id int);
      CREATE TABLE billing.invoices (tenant_id text NOT NULL, id int);
      CREATE TABLE audit_like (org text NOT NULL, id int);
      CREATE TABLE empty_tenant_table (tenant_id text, id int);
      CREATE TABLE plans (id int);
      CREATE TABLE tenantry_vault_snapshots_like (tenant_id text);
      CREATE TABLE events (tenant_id text NOT NULL, at int) PARTITION BY RANGE (at);
      CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (100);
      INSERT INTO users VALUES ('a', 1), ('b', 1);
      INSERT INTO tasks VALUES ('a', 1, 1);
      INSERT INTO billing.invoices VALUES ('b', 1);
      INSERT INTO audit_like VALUES ('a', 1);
      INSERT INTO plans VALUES (1);
      INSERT INTO tenantry_vault_snapshots_like VALUES ('a');
      INSERT INTO events VALUES ('a', 5);
      -- RLS on, as an app would have: the check must still see the rows (it runs as the owner).
      ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
    `);
  });
  afterAll(() => pool?.end());

  it('an uncovered table with rows is a gap; covering it closes the gap', async () => {
    const registry = createModuleRegistry([declared('users', { postgres: ['users'] })]);
    const first = await checkCoverage({ registry, postgres: { pool } });
    expect(first.ok).toBe(false);
    expect(first.gaps.map((g) => g.name)).toEqual(['billing.invoices', 'public.events', 'public.tasks']);
    expect(first.entries.map((e) => [e.name, e.hasRows, e.coveredBy, e.ignored])).toEqual([
      ['billing.invoices', true, [], false],
      ['public.empty_tenant_table', false, [], false],
      ['public.events', true, [], false],
      ['public.tasks', true, [], false],
      ['public.tenantry_vault_snapshots_like', true, [], true],
      ['public.users', true, ['users'], false],
    ]);
    expect(await settledCode(assertCoverage({ registry, postgres: { pool } }))).toBe('VAULT_COVERAGE_GAPS');

    registry.register(
      declared('tasks', { postgres: ['public.tasks'] }, ['users']),
      declared('invoices', { postgres: ['billing.invoices'] }),
    );
    const second = await checkCoverage({ registry, postgres: { pool }, covered: { postgres: ['events'] } });
    expect(second.gaps).toEqual([]);
    expect(second.ok).toBe(true);
    expect(
      (await assertCoverage({ registry, postgres: { pool }, covered: { postgres: ['events'] } })).ok,
    ).toBe(true);
  });

  it('the table module factory declares its table: registering modules for every table closes every gap', async () => {
    const scope = createPostgresTransactionScope(pool, { requireRls: false });
    const registry = createModuleRegistry([
      postgresTableModule(scope, { table: 'users' }),
      postgresTableModule(scope, { table: 'tasks', dependsOn: ['users'] }),
      postgresTableModule(scope, { table: 'events' }),
    ]);
    expect((await checkCoverage({ registry, postgres: { pool } })).gaps.map((g) => g.name)).toEqual([
      'billing.invoices',
    ]);
    registry.register(postgresTableModule(scope, { table: 'invoices', schema: 'billing' }));
    const report = await checkCoverage({ registry, postgres: { pool } });
    expect(report.ok).toBe(true);
    expect(report.entries.find((e) => e.name === 'billing.invoices')?.coveredBy).toEqual(['invoices']);
  });

  it('a row appearing in an empty tenant table makes it a gap', async () => {
    const registry = createModuleRegistry([
      declared('all', { postgres: ['users', 'tasks', 'billing.invoices', 'events'] }),
    ]);
    expect((await checkCoverage({ registry, postgres: { pool } })).ok).toBe(true);
    await pool.query(`INSERT INTO empty_tenant_table VALUES ('c', 1)`);
    expect((await checkCoverage({ registry, postgres: { pool } })).gaps.map((g) => g.name)).toEqual([
      'public.empty_tenant_table',
    ]);
    await pool.query('DELETE FROM empty_tenant_table');
  });

  it('the tenant column, schemas and ignore list are configurable', async () => {
    const registry = createModuleRegistry([]);
    const byOrg = await checkCoverage({ registry, postgres: { pool, tenantColumn: 'org' } });
    expect(byOrg.gaps.map((g) => g.name)).toEqual(['public.audit_like']);
    const billingOnly = await checkCoverage({ registry, postgres: { pool, schemas: ['billing'] } });
    expect(billingOnly.entries.map((e) => e.name)).toEqual(['billing.invoices']);
    const ignored = await checkCoverage({
      registry,
      postgres: { pool },
      ignore: ['tasks', 'billing.*', 'events', 'tenantry_*'],
    });
    expect(ignored.gaps.map((g) => g.name)).toEqual(['public.users']);
  });

  it('fails with typed errors: bad options, an unreachable database', async () => {
    const registry = createModuleRegistry([]);
    expect(await settledCode(checkCoverage({ registry: {} as never, postgres: { pool } }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await settledCode(checkCoverage({ registry, postgres: { pool, tenantColumn: '' } }))).toBe(
      'VALIDATION_FAILED',
    );
    const dead = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:9/none',
      connectionTimeoutMillis: 500,
    });
    expect(await settledCode(checkCoverage({ registry, postgres: { pool: dead } }))).toBe(
      'VAULT_STORE_UNAVAILABLE',
    );
    await dead.end();
  });
});

describe.skipIf(!hasBackend('mongo'))(`checkCoverage on MongoDB (V5)${skipLabel('mongo')}`, () => {
  let client: MongoClient;
  beforeAll(async () => {
    client = new MongoClient(mongo.url());
    await client.connect();
    const d = client.db(mongo.name());
    await d.collection('contacts').insertOne({ tenantId: 'a', name: 'x' });
    await d.collection('messages').insertOne({ tenantId: 'a', body: 'y' });
    await d.collection('settings').insertOne({ global: true });
  });
  afterAll(() => client?.close());

  it('an uncovered collection with tenant documents is a gap; covering it closes the gap', async () => {
    const d = client.db(mongo.name());
    const registry = createModuleRegistry([declared('contacts', { mongo: ['contacts'] })]);
    const first = await checkCoverage({ registry, mongo: { db: d } });
    expect(first.gaps.map((g) => g.name)).toEqual(['messages']);
    registry.register(declared('messages', { mongo: ['messages'] }, ['contacts']));
    expect((await checkCoverage({ registry, mongo: { db: d } })).ok).toBe(true);
  });
});
