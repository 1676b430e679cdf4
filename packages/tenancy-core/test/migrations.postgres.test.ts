import { useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTenantryError } from '../src/index.js';
import { type Migration, coreModelMigrations, runMigrations } from '../src/postgres.js';

const db = useTestDatabase();
let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: db.url(), max: 6 });
});
afterAll(() => pool.end());

describe('PostgreSQL migrations', () => {
  it('applies each (component, version) exactly once even when several instances start at once', async () => {
    const other: Migration[] = [
      {
        component: 'host-app',
        version: 1,
        name: 'notes',
        sql: 'CREATE TABLE host_notes (id int PRIMARY KEY)',
      },
    ];
    const reports = await Promise.all(
      Array.from({ length: 4 }, () => runMigrations(pool, [...coreModelMigrations, ...other])),
    );
    expect(reports.reduce((n, r) => n + r.applied.length, 0)).toBe(coreModelMigrations.length + 1);
    const { rows } = await pool.query(
      'SELECT component, version FROM tenantry_core_migrations ORDER BY component, version',
    );
    expect(rows).toEqual([
      { component: 'core-model', version: 1 },
      { component: 'core-model', version: 2 },
      { component: 'core-model', version: 3 },
      { component: 'host-app', version: 1 },
    ]);
    expect((await runMigrations(pool, coreModelMigrations)).applied).toEqual([]);
  });

  it('refuses an applied migration whose SQL changed, and rolls back a failing one', async () => {
    const edited = coreModelMigrations.map((m) =>
      m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m,
    );
    await expect(runMigrations(pool, edited)).rejects.toSatisfy((e) =>
      isTenantryError(e, 'MIGRATION_CHECKSUM_MISMATCH'),
    );
    const broken: Migration = {
      component: 'host-app',
      version: 2,
      name: 'broken',
      sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();',
    };
    await expect(runMigrations(pool, [broken])).rejects.toThrow();
    const { rows } = await pool.query(`SELECT to_regclass('half_done') AS t`);
    expect(rows[0].t).toBeNull();
  });

  it('the database itself refuses an illegal lifecycle change made with raw SQL', async () => {
    const now = new Date();
    await pool.query(
      `INSERT INTO tenantry_tenants (id, name, status, isolation, version, created_at, updated_at, status_changed_at)
       VALUES ('raw', 'Raw', 'ACTIVE', '{"mode":"shared"}', 1, $1, $1, $1)`,
      [now],
    );
    await expect(
      pool.query(`UPDATE tenantry_tenants SET status = 'ARCHIVED' WHERE id = 'raw'`),
    ).rejects.toThrow(/illegal tenantry_tenants transition ACTIVE -> ARCHIVED/);
    await pool.query(`UPDATE tenantry_tenants SET status = 'SUSPENDED' WHERE id = 'raw'`);
  });
});
