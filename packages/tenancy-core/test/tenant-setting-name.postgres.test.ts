import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import { describe, expect, it } from 'vitest';
import { settledCode } from '../src/testing.js';
import { createTenantUnitOfWork, tenantTableSql } from '../src/postgres.js';
import { asTenant, useRlsDatabase } from './helpers.js';

// PostgreSQL parses a setting name as identifiers where SET LOCAL and RESET take it, truncating each part
// to 63 bytes (a NOTICE only), but takes it as a string in current_setting('<name>'), which the policies
// read. A part over 63 bytes would have the unit set and reset one setting and the policies read another:
// such names are refused; a part of exactly 63 works end to end.
const LONGEST = `app.${'t'.repeat(63)}`;
const TOO_LONG = `app.${'t'.repeat(64)}`;

describe('tenant setting names longer than PostgreSQL keeps', () => {
  it('are refused by the unit of work and by tenantTableSql (VALIDATION_FAILED), before any SQL is built', async () => {
    const pool = { connect: async () => ({}), query: async () => ({}) } as never;
    expect(
      await settledCode(Promise.resolve().then(() => createTenantUnitOfWork(pool, { setting: TOO_LONG }))),
    ).toBe('VALIDATION_FAILED');
    expect(
      await settledCode(Promise.resolve().then(() => tenantTableSql({ table: 't', setting: TOO_LONG }))),
    ).toBe('VALIDATION_FAILED');
    expect(() => createTenantUnitOfWork(pool, { setting: LONGEST })).not.toThrow();
  });
});

describe.skipIf(!hasBackend('postgres')).each([
  { pipeline: false, mode: 'one reply at a time' },
  { pipeline: true, mode: 'pg pipeline mode' },
])(`unit of work with a 63-character setting part, $mode${skipLabel('postgres')}`, ({ pipeline }) => {
  const db = useTestDatabase();
  const rls = useRlsDatabase(db, 2, pipeline);

  it('the tenant is set under the name the policies read, and reset before release', async () => {
    const { admin, app, appRole, ownerRole } = rls();
    await admin.query(`CREATE TABLE IF NOT EXISTS long_items (tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL);
      ALTER TABLE long_items OWNER TO ${ownerRole}`);
    for (const sql of tenantTableSql({ table: 'long_items', setting: LONGEST })) await admin.query(sql);
    await admin.query(`GRANT SELECT, INSERT ON long_items TO ${appRole}`);
    await admin.query(
      `INSERT INTO long_items (tenant_id, note) VALUES ('t-long', 'a'), ('t-long', 'b'), ('other', 'c')`,
    );
    const uow = createTenantUnitOfWork(app, { setting: LONGEST });
    const seen = await asTenant('t-long', () =>
      uow.run(async (c) => {
        const s = await c.query<{ s: string | null }>(`SELECT current_setting('${LONGEST}', true) AS s`);
        const rows = await c.query<{ note: string }>('SELECT note FROM long_items ORDER BY note');
        // A session-level SET of the same name: reset before the connection goes back.
        await c.query(`SELECT set_config('${LONGEST}', 'other', false)`);
        return { setting: s.rows[0]?.s, notes: rows.rows.map((r) => r.note) };
      }),
    );
    expect(seen).toEqual({ setting: 't-long', notes: ['a', 'b'] });
    const clients = await Promise.all([app.connect(), app.connect()]);
    try {
      for (const c of clients) {
        const r = await c.query<{ s: string | null; n: number }>(
          `SELECT current_setting('${LONGEST}', true) AS s, (SELECT count(*)::int FROM long_items) AS n`,
        );
        expect([r.rows[0]?.s ?? '', r.rows[0]?.n]).toEqual(['', 0]);
      }
    } finally {
      for (const c of clients) c.release();
    }
  });
});
