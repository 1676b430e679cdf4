import { randomBytes } from 'node:crypto';
import { runAsTenant } from '@tenantry/core';
import { hasBackend, pgVia, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../src/app.js';
import type { DocumentRow } from '../src/documents.js';
import { APP_ROLE, TENANT_TABLES } from '../src/schema.js';
import { ApiClient } from './helpers.js';

const acme = { tenantId: 'acme', actor: { id: 'rls-test' } };

/**
 * Row-level security on the app's tenant tables, through the app's own tenant pool and units of work:
 * nothing without a tenant, only the unit's tenant even when a query forgets its filter.
 * `login`: the role the tenant pool's connections log in as (`undefined`: the privileged user, which
 * switches to invoicing_app on checkout, so `session_user` stays a superuser).
 */
function rlsSuite(start: () => Promise<RunningApp>, login: () => string | undefined): void {
  let app: RunningApp;
  let globexInvoice: DocumentRow;
  let acmeInvoice: DocumentRow;

  beforeAll(async () => {
    app = await start();
    const issue = async (email: string, customerId: string) =>
      (await ApiClient.signIn(app, email)).ok<DocumentRow>(
        'POST',
        '/ops/invoices',
        { customerId, amountCents: 1234 },
        201,
      );
    acmeInvoice = await issue('clerk@acme.test', 'acme-wayne');
    globexInvoice = await issue('clerk@globex.test', 'globex-wayne');
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  it('the tenant pool without a tenant context sees no row of any tenant table', async () => {
    const { pool, db } = { pool: app.services.pool, db: app.services.db };
    for (const table of TENANT_TABLES) {
      const all = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      const seen = await db.appPool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      expect(seen.rows[0]!.n, table).toBe(0);
      // Not vacuous: the privileged pool sees the seeded and issued rows of the tables that have any.
      if (table === 'app_customers' || table === 'app_documents')
        expect(all.rows[0]!.n, table).toBeGreaterThan(1);
    }
    const who = await db.appPool.query<{ role: string; su: string }>(
      "SELECT current_user AS role, current_setting('is_superuser') AS su",
    );
    expect(who.rows[0]).toEqual({ role: login() ?? APP_ROLE, su: 'off' });
  });

  it("tenant A's unit of work reads and writes only A's rows, even with no tenant filter", async () => {
    const { uow } = app.services;
    const rows = await runAsTenant(acme, () =>
      uow.query<{ tenant_id: string; id: string }>('SELECT tenant_id, id FROM app_documents'),
    );
    expect(rows.rows.map((r) => r.id)).toContain(acmeInvoice.id);
    expect(new Set(rows.rows.map((r) => r.tenant_id))).toEqual(new Set(['acme']));
    const named = await runAsTenant(acme, () =>
      uow.query('SELECT * FROM app_documents WHERE id = $1', [globexInvoice.id]),
    );
    expect(named.rows).toEqual([]);
    const updated = await runAsTenant(acme, () =>
      uow.query('UPDATE app_documents SET amount_cents = 1 WHERE id = $1', [globexInvoice.id]),
    );
    expect(updated.rowCount).toBe(0);
    // WITH CHECK: a row for another tenant cannot be written from A's unit.
    await expect(
      runAsTenant(acme, () =>
        uow.query("INSERT INTO app_customers (tenant_id, id, name) VALUES ('globex', 'planted', 'x')"),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    // Globex's invoice is untouched and still there for the privileged pool.
    const still = await app.services.pool.query<{ amount_cents: string }>(
      'SELECT amount_cents FROM app_documents WHERE tenant_id = $1 AND id = $2',
      ['globex', globexInvoice.id],
    );
    expect(still.rows).toEqual([{ amount_cents: '1234' }]);
  });

  it('a unit runs as the application role, and the privileged pool keeps its own user', async () => {
    const inUnit = await runAsTenant(acme, () =>
      app.services.uow.query<{ role: string; su: string }>(
        "SELECT current_user AS role, current_setting('is_superuser') AS su",
      ),
    );
    expect(inUnit.rows[0]).toEqual({ role: login() ?? APP_ROLE, su: 'off' });
    // On PGlite both pools share one session: the role is reset before the privileged side runs.
    const after = await app.services.pool.query<{ su: string }>(
      "SELECT current_setting('is_superuser') AS su",
    );
    expect(after.rows[0]!.su).toBe('on');
  });

  if (login() === undefined) {
    it('limit: the session user is a superuser, so SQL run in a unit can RESET ROLE (README: use DATABASE_APP_URL)', async () => {
      const r = await runAsTenant(acme, () =>
        app.services.uow.run(async (db) => {
          await db.query('RESET ROLE');
          return db.query<{ su: string }>("SELECT current_setting('is_superuser') AS su");
        }),
      );
      expect(r.rows[0]!.su).toBe('on');
    });
  } else {
    it('with a LOGIN application role, SQL run in a unit cannot become a superuser', async () => {
      await expect(
        runAsTenant(acme, () => app.services.uow.query('SET ROLE postgres')),
      ).rejects.toMatchObject({ code: '42501' });
      const r = await runAsTenant(acme, () =>
        app.services.uow.run(async (db) => {
          await db.query('RESET ROLE');
          return db.query<{ role: string; su: string }>(
            "SELECT current_user AS role, current_setting('is_superuser') AS su",
          );
        }),
      );
      expect(r.rows[0]).toEqual({ role: login(), su: 'off' });
    });
  }
}

describe('row-level security of the invoicing app on the embedded default (PGlite)', () => {
  rlsSuite(
    () => startApp({ env: {}, config: { port: 0 }, rateLimit: false }),
    () => undefined,
  );
});

const ready = hasBackend('postgres');
// SET ROLE per checkout is session state, which a transaction-mode pooler does not keep (README).
describe.skipIf(!ready || pgVia() === 'pgbouncer')(
  `row-level security of the invoicing app on PostgreSQL, SET ROLE on checkout${skipLabel('postgres')}${pgVia() === 'pgbouncer' ? ' (skipped behind PgBouncer: SET ROLE per checkout needs a session; the DATABASE_APP_URL suite runs there)' : ''}`,
  () => {
    const db = useTestDatabase();
    rlsSuite(
      () => startApp({ env: { DATABASE_URL: db.url() }, config: { port: 0 }, rateLimit: false }),
      () => undefined,
    );
  },
);

describe.skipIf(!ready)(
  `row-level security of the invoicing app on PostgreSQL with DATABASE_APP_URL (a LOGIN role)${skipLabel('postgres')}`,
  () => {
    const db = useTestDatabase();
    // Roles are global to the server: a name of this run's own, dropped afterwards.
    const role = `invoicing_web_${randomBytes(4).toString('hex')}`;
    const admin = () => new pg.Client({ connectionString: db.url() });
    beforeAll(async () => {
      const c = admin();
      await c.connect();
      try {
        // The migrations create invoicing_app too; the login role needs it before the app starts.
        await c.query(`DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
            CREATE ROLE ${APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
          END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
        await c.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE ${APP_ROLE}`);
      } finally {
        await c.end();
      }
    });
    afterAll(async () => {
      const c = admin();
      await c.connect();
      try {
        await c.query(`DROP ROLE IF EXISTS ${role}`);
      } finally {
        await c.end();
      }
    });
    rlsSuite(
      () => {
        const appUrl = new URL(db.url());
        appUrl.username = role;
        appUrl.password = '';
        return startApp({
          env: { DATABASE_URL: db.url(), DATABASE_APP_URL: appUrl.toString() },
          config: { port: 0 },
          rateLimit: false,
        });
      },
      () => role,
    );
  },
);
