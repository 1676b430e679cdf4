import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { isTenantryError, runAsTenant } from '../src/index.js';
import { assertRlsEnforced, createTenantUnitOfWork, tenantTableSql } from '../src/postgres.js';
import { runUnit, useRlsDatabase } from './helpers.js';

// Every case runs with `pg` awaiting each reply and in pipeline mode (issue 20).
describe.skipIf(!hasBackend('postgres')).each([
  { pipeline: false, mode: 'one reply at a time' },
  { pipeline: true, mode: 'pg pipeline mode' },
])(`row-level security as the application role, $mode${skipLabel('postgres')}`, ({ pipeline }) => {
  const db = useTestDatabase();
  const rls = useRlsDatabase(db, 2, pipeline);
  const ids: Record<string, { customer: number; invoice: number }> = {};
  const asUser = (tenantId: string) => ({ tenantId, actor: { id: `user-of-${tenantId}` } });

  beforeAll(async () => {
    const { admin } = rls();
    // Seeded as superuser (bypasses RLS): 3 customers and 5 invoices per tenant.
    for (const t of ['acme', 'globex', 'initech']) {
      const c = await admin.query<{ id: string }>(
        `INSERT INTO customers (tenant_id, name) SELECT $1, 'c' || g FROM generate_series(1, 3) g RETURNING id`,
        [t],
      );
      const inv = await admin.query<{ id: string }>(
        `INSERT INTO invoices (tenant_id, customer_id, total) SELECT $1, $2, g FROM generate_series(1, 5) g RETURNING id`,
        [t, c.rows[0]!.id],
      );
      ids[t] = { customer: Number(c.rows[0]!.id), invoice: Number(inv.rows[0]!.id) };
    }
  });

  it('the startup check accepts the application role and reports the tables', async () => {
    const report = await assertRlsEnforced(rls().app, { tables: ['customers', 'public.invoices'] });
    expect(report.role).toBe(rls().appRole);
    expect(report.tables).toEqual(['customers', 'invoices']);
  });

  it("a query with no tenant filter returns only the current tenant's rows", async () => {
    const uow = createTenantUnitOfWork(rls().app);
    const rows = await runAsTenant(asUser('acme'), () =>
      runUnit(
        uow,
        async (c) => (await c.query<{ tenant_id: string }>('SELECT tenant_id FROM invoices')).rows,
      ),
    );
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set(['acme']));
    const globex = await runUnit(uow, async (c) => (await c.query('SELECT * FROM customers')).rows, {
      tenantId: 'globex',
    });
    expect(globex).toHaveLength(3);
    expect(globex.every((r) => r.tenant_id === 'globex')).toBe(true);
  });

  it('with no tenant set, nothing is visible (never "all tenants")', async () => {
    const { app } = rls();
    expect((await app.query('SELECT * FROM invoices')).rowCount).toBe(0);
    const client = await app.connect();
    try {
      // After a transaction that set the tenant locally, the setting reads '' — still nothing visible.
      await client.query("BEGIN; SELECT set_config('app.tenant_id', 'acme', true)");
      expect((await client.query('SELECT * FROM invoices')).rowCount).toBe(5);
      await client.query('COMMIT');
      expect((await client.query("SELECT current_setting('app.tenant_id', true) AS s")).rows[0].s).toBe('');
      expect((await client.query('SELECT * FROM invoices')).rowCount).toBe(0);
      await expect(
        client.query("INSERT INTO customers (tenant_id, name) VALUES ('acme', 'x')"),
      ).rejects.toMatchObject({
        code: '42501',
      });
    } finally {
      client.release();
    }
    await expect(createTenantUnitOfWork(app).run(async () => 1)).rejects.toSatisfy((e) =>
      isTenantryError(e, 'TENANT_CONTEXT_MISSING'),
    );
  });

  it("writing another tenant's rows is refused by the database", async () => {
    const uow = createTenantUnitOfWork(rls().app);
    const opts = { tenantId: 'acme' };
    // Insert a row for another tenant: violates the policy's WITH CHECK.
    await expect(
      runUnit(
        uow,
        (c) => c.query('INSERT INTO customers (tenant_id, name) VALUES ($1, $2)', ['globex', 'x']),
        opts,
      ),
    ).rejects.toMatchObject({ code: '42501' });
    // Move an own row to another tenant: refused too.
    await expect(
      runUnit(
        uow,
        (c) => c.query("UPDATE invoices SET tenant_id = 'globex' WHERE id = $1", [ids.acme!.invoice]),
        opts,
      ),
    ).rejects.toMatchObject({ code: '42501' });
    // Update or delete another tenant's row: invisible, so nothing happens.
    const upd = await runUnit(
      uow,
      (c) => c.query('UPDATE invoices SET total = 0 WHERE id = $1', [ids.globex!.invoice]),
      opts,
    );
    const del = await runUnit(
      uow,
      (c) => c.query('DELETE FROM invoices WHERE id = $1', [ids.globex!.invoice]),
      opts,
    );
    expect([upd.rowCount, del.rowCount]).toEqual([0, 0]);
    const check = await rls().admin.query('SELECT total FROM invoices WHERE id = $1', [ids.globex!.invoice]);
    expect(Number(check.rows[0].total)).toBe(1);
    // Own rows can be written.
    const own = await runUnit(
      uow,
      (c) => c.query('INSERT INTO customers (tenant_id, name) VALUES ($1, $2) RETURNING id', ['acme', 'new']),
      opts,
    );
    expect(own.rowCount).toBe(1);
  });

  it("referencing another tenant's row is refused by the composite foreign key, even for a superuser", async () => {
    const uow = createTenantUnitOfWork(rls().app);
    await expect(
      runUnit(
        uow,
        (c) =>
          c.query('INSERT INTO invoices (tenant_id, customer_id, total) VALUES ($1, $2, 1)', [
            'acme',
            ids.globex!.customer,
          ]),
        { tenantId: 'acme' },
      ),
    ).rejects.toMatchObject({ code: '23503' });
    // RLS does not apply to the superuser, so this proves the foreign key itself holds.
    await expect(
      rls().admin.query('INSERT INTO invoices (tenant_id, customer_id, total) VALUES ($1, $2, 1)', [
        'acme',
        ids.globex!.customer,
      ]),
    ).rejects.toMatchObject({ code: '23503' });
    const ok = await runUnit(
      uow,
      (c) =>
        c.query('INSERT INTO invoices (tenant_id, customer_id, total) VALUES ($1, $2, 1)', [
          'acme',
          ids.acme!.customer,
        ]),
      { tenantId: 'acme' },
    );
    expect(ok.rowCount).toBe(1);
  });

  it('readOnly units of work cannot write, and the isolation level is applied', async () => {
    const uow = createTenantUnitOfWork(rls().app, { isolation: 'serializable' });
    await expect(
      runUnit(uow, (c) => c.query("INSERT INTO customers (tenant_id, name) VALUES ('acme', 'ro')"), {
        tenantId: 'acme',
        readOnly: true,
      }),
    ).rejects.toMatchObject({ code: '25006' });
    const level = await runUnit(
      uow,
      async (c) =>
        (await c.query<{ l: string }>("SELECT current_setting('transaction_isolation') AS l")).rows[0]!.l,
      { tenantId: 'acme' },
    );
    expect(level).toBe('serializable');
  });

  it('tenantTableSql can run again on a table it already made a tenant table (constraints added only when missing)', async () => {
    const { admin } = rls();
    const again = [
      ...tenantTableSql({ table: 'customers' }),
      ...tenantTableSql({
        table: 'invoices',
        foreignKeys: [{ columns: ['customer_id'], references: 'customers' }],
      }),
    ];
    for (const sql of again) await admin.query(sql);
    const { rows } = await admin.query<{ conname: string }>(
      `SELECT conname FROM pg_constraint WHERE conrelid IN ('customers'::regclass, 'invoices'::regclass)
         AND conname IN ('customers_tenant_id_id_key', 'invoices_tenant_id_id_key', 'invoices_customer_id_fkey')
       ORDER BY conname`,
    );
    expect(rows.map((r) => r.conname)).toEqual([
      'customers_tenant_id_id_key',
      'invoices_customer_id_fkey',
      'invoices_tenant_id_id_key',
    ]);
  });

  it('the startup check refuses a superuser', async () => {
    await expect(assertRlsEnforced(rls().admin, { tables: ['invoices'] })).rejects.toSatisfy(
      (e) =>
        isTenantryError(e, 'RLS_SUPERUSER') &&
        /connect as a non-superuser application role/.test((e as Error).message),
    );
  });

  it('the startup check refuses the table owner, and any member of it (inheriting, or one SET ROLE away)', async () => {
    const { urlAs, ownerRole, admin, createRole } = rls();
    const owner = new pg.Client({ connectionString: urlAs(ownerRole) });
    await owner.connect();
    try {
      await expect(assertRlsEnforced(owner, { tables: ['customers', 'invoices'] })).rejects.toSatisfy(
        (e) => isTenantryError(e, 'RLS_TABLE_OWNER') && (e.details.tables as string[]).length === 2,
      );
      // Without a table list, every RLS table in the database is checked for ownership.
      await expect(assertRlsEnforced(owner)).rejects.toSatisfy((e) => isTenantryError(e, 'RLS_TABLE_OWNER'));
    } finally {
      await owner.end();
    }
    const member = await createRole('mem');
    await admin.query(`GRANT ${ownerRole} TO ${member}`);
    const m = new pg.Client({ connectionString: urlAs(member) });
    await m.connect();
    try {
      await expect(assertRlsEnforced(m)).rejects.toSatisfy((e) => isTenantryError(e, 'RLS_TABLE_OWNER'));
    } finally {
      await m.end();
    }
    // A NOINHERIT member holds none of the owner's privileges until it runs SET ROLE, which it may do
    // at any moment (and then turn forced RLS off): it is an owner in waiting.
    const noinherit = await createRole('noi', 'NOINHERIT');
    await admin.query(`GRANT ${ownerRole} TO ${noinherit}`);
    const n = new pg.Client({ connectionString: urlAs(noinherit) });
    await n.connect();
    try {
      await expect(assertRlsEnforced(n, { tables: ['customers'] })).rejects.toSatisfy((e) =>
        isTenantryError(e, 'RLS_TABLE_OWNER'),
      );
    } finally {
      await n.end();
    }
  });

  it('the startup check refuses BYPASSRLS, directly or through a role it can become (also a superuser role)', async () => {
    const { urlAs, admin, createRole } = rls();
    const bypass = await createRole('byp', 'BYPASSRLS');
    const member = await createRole('bym');
    await admin.query(`GRANT ${bypass} TO ${member}`);
    const superMember = await createRole('sum');
    await admin.query(`GRANT postgres TO ${superMember}`); // may SET ROLE postgres: a superuser in waiting
    for (const role of [bypass, member, superMember]) {
      const c = new pg.Client({ connectionString: urlAs(role) });
      await c.connect();
      try {
        await expect(assertRlsEnforced(c)).rejects.toSatisfy((e) => isTenantryError(e, 'RLS_BYPASSRLS'));
      } finally {
        await c.end();
      }
    }
  });

  it('the startup check refuses tables without forced RLS, and missing tables', async () => {
    const { admin, app, appRole } = rls();
    await admin.query('CREATE TABLE notes (tenant_id text NOT NULL, body text)');
    await admin.query('ALTER TABLE notes ENABLE ROW LEVEL SECURITY'); // enabled but not forced
    await admin.query(`GRANT SELECT ON notes TO ${appRole}`);
    await expect(assertRlsEnforced(app, { tables: ['invoices', 'notes', 'nope'] })).rejects.toSatisfy(
      (e) =>
        isTenantryError(e, 'RLS_NOT_ENFORCED') &&
        JSON.stringify(e.details.unenforced) === '["notes"]' &&
        JSON.stringify(e.details.missing) === '["nope"]',
    );
  });

  it('the policy lets PostgreSQL use the tenant-first index (EXPLAIN)', async () => {
    const { admin, app } = rls();
    await admin.query(`
      INSERT INTO customers (tenant_id, name) SELECT 'bulk-' || (g % 200), 'c' FROM generate_series(1, 200) g;
      INSERT INTO invoices (tenant_id, customer_id, total)
        SELECT c.tenant_id, c.id, g FROM customers c, generate_series(1, 100) g WHERE c.tenant_id LIKE 'bulk-%';
      ANALYZE customers; ANALYZE invoices;`);
    const policy = await admin.query(
      "SELECT qual, with_check FROM pg_policies WHERE tablename = 'invoices' AND policyname = 'tenant_isolation'",
    );
    expect(policy.rows[0].qual).toContain("current_setting('app.tenant_id'::text, true)");
    const uow = createTenantUnitOfWork(app);
    const plan = await runUnit(
      uow,
      async (c) =>
        (await c.query<{ 'QUERY PLAN': unknown }>('EXPLAIN (FORMAT JSON, COSTS OFF) SELECT * FROM invoices'))
          .rows[0]!['QUERY PLAN'],
      { tenantId: 'bulk-7' },
    );
    const text = JSON.stringify(plan);
    expect(text).not.toContain('Seq Scan');
    expect(text).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
    expect(text).toContain('invoices_tenant_id_id_key');
    // The setting is evaluated once (an InitPlan), not per row; the column is compared bare.
    expect(text).toContain('InitPlan');
    const rows = await runUnit(
      uow,
      async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM invoices')).rows[0]!.n,
      {
        tenantId: 'bulk-7',
      },
    );
    expect(rows).toBe(100);
  });

  it('quotes every identifier, so odd table names work and cannot inject SQL', async () => {
    const { admin } = rls();
    const table = 'Odd "name"; DROP TABLE invoices; --';
    await admin.query(
      `CREATE TABLE "Odd ""name""; DROP TABLE invoices; --" (tenant_id uuid NOT NULL, id int NOT NULL)`,
    );
    const sql = tenantTableSql({ table, tenantColumnType: 'uuid' });
    for (const s of sql) await admin.query(s);
    const r = await admin.query("SELECT to_regclass('invoices') IS NOT NULL AS still_there");
    expect(r.rows[0].still_there).toBe(true);
    const flags = await admin.query(
      'SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = $1',
      [table],
    );
    expect(flags.rows[0]).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
  });
});
