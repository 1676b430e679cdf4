import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PgPoolClientLike, type PgPoolLike, isTenantryError, runAsTenant } from '../src/index.js';
import { settledCode } from '../src/testing.js';
import { createTenantUnitOfWork } from '../src/postgres.js';
import { runUnit, useRlsDatabase } from './helpers.js';

const db = useTestDatabase();
const TENANTS = Array.from({ length: 40 }, (_, i) => `tenant-${i}`);
const ROWS_PER_TENANT = (i: number) => (i % 7) + 1;

describe.skipIf(!hasBackend('postgres'))(
  `unit of work over a pool of TWO connections${skipLabel('postgres')}`,
  () => {
    const rls = useRlsDatabase(db, 2);

    beforeAll(async () => {
      const { admin } = rls();
      for (const [i, t] of TENANTS.entries()) {
        await admin.query(
          `INSERT INTO customers (tenant_id, name) SELECT $1, 'c' FROM generate_series(1, $2)`,
          [t, ROWS_PER_TENANT(i)],
        );
      }
    });

    it("600 interleaved units of work for 40 tenants never see another tenant's setting or rows, including after throws", async () => {
      const uow = createTenantUnitOfWork(rls().app);
      const pids = new Set<number>();
      let thrown = 0;
      let rolledBack = 0;
      let committed = 0;
      const unit = async (n: number) => {
        const i = (n * 17) % TENANTS.length;
        const tenantId = TENANTS[i]!;
        const mode = n % 5; // 0: throws in JS, 1: SQL error caught inside, else normal
        const work = (opts?: { tenantId: string }) =>
          runUnit(
            uow,
            async (c) => {
              const first = await c.query<{ s: string; pid: number }>(
                "SELECT current_setting('app.tenant_id', true) AS s, pg_backend_pid() AS pid",
              );
              pids.add(first.rows[0]!.pid);
              expect(first.rows[0]!.s).toBe(tenantId);
              // Yield to the event loop so other units of work interleave on the other connection.
              await new Promise((r) => setTimeout(r, n % 3));
              const rows = (await c.query<{ tenant_id: string }>('SELECT tenant_id FROM customers')).rows;
              expect(rows).toHaveLength(ROWS_PER_TENANT(i));
              expect(rows.every((r) => r.tenant_id === tenantId)).toBe(true);
              await c.query('INSERT INTO customers (tenant_id, name) VALUES ($1, $2)', [
                tenantId,
                `tmp-${n}`,
              ]);
              if (mode === 0) throw new Error(`boom ${n}`);
              if (mode === 1) {
                // A statement fails and the callback swallows the error: COMMIT must not pretend to succeed.
                await c.query('SELECT 1 / 0').catch(() => undefined);
                return;
              }
              // Leave the count as it was so later units see the same numbers.
              await c.query("DELETE FROM customers WHERE name LIKE 'tmp-%'");
              const again = await c.query<{ s: string }>(
                "SELECT current_setting('app.tenant_id', true) AS s",
              );
              expect(again.rows[0]!.s).toBe(tenantId);
            },
            opts,
          );
        // Half of the units take the tenant from the context, half from the argument.
        const run =
          n % 2
            ? () => runAsTenant({ tenantId, actor: { id: 'u' } }, () => work())
            : () => work({ tenantId });
        try {
          await run();
          committed++;
        } catch (error) {
          if (mode === 0 && String((error as Error).message).startsWith('boom')) thrown++;
          else if (mode === 1 && isTenantryError(error, 'UNIT_OF_WORK_ROLLED_BACK')) rolledBack++;
          else throw error;
        }
      };
      await Promise.all(Array.from({ length: 600 }, (_, n) => unit(n)));
      expect({ thrown, rolledBack, committed }).toEqual({ thrown: 120, rolledBack: 120, committed: 360 });
      expect(pids.size).toBe(2); // really only two connections, reused hundreds of times
      // Nothing written by a unit of work that threw or rolled back survived.
      const leftovers = await rls().admin.query(
        "SELECT count(*)::int AS n FROM customers WHERE name LIKE 'tmp-%'",
      );
      expect(leftovers.rows[0].n).toBe(0);
      // Both pooled connections come back clean: no tenant, no open transaction, nothing visible.
      const app = rls().app;
      const clients = [await app.connect(), await app.connect()];
      try {
        for (const c of clients) {
          const r = await c.query(
            "SELECT current_setting('app.tenant_id', true) AS s, (SELECT count(*)::int FROM customers) AS n",
          );
          expect([r.rows[0].s ?? '', r.rows[0].n]).toEqual(['', 0]);
          // Outside a transaction block each statement is its own transaction, so now() is this
          // statement's start; a transaction left open would show an older now().
          const tx = await c.query('SELECT now() = statement_timestamp() AS fresh');
          expect(tx.rows[0].fresh).toBe(true);
        }
      } finally {
        for (const c of clients) c.release();
      }
    }, 60_000);

    it('destroys a connection whose ROLLBACK fails instead of returning it to the pool', async () => {
      const { app, admin } = rls();
      const uow = createTenantUnitOfWork(app);
      let killedPid = 0;
      await expect(
        runUnit(
          uow,
          async (c) => {
            killedPid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
            await admin.query('SELECT pg_terminate_backend($1)', [killedPid]);
            await new Promise((r) => setTimeout(r, 100));
            throw new Error('work failed after the connection died');
          },
          { tenantId: TENANTS[0] },
        ),
      ).rejects.toThrow('work failed after the connection died');
      // The pool keeps working, on connections other than the dead one.
      const seen = new Set<number>();
      await Promise.all(
        Array.from({ length: 20 }, () =>
          runUnit(
            uow,
            async (c) =>
              void seen.add((await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid),
            {
              tenantId: TENANTS[1],
            },
          ),
        ),
      );
      expect(killedPid).toBeGreaterThan(0);
      expect(seen.has(killedPid)).toBe(false);
      expect((app as pg.Pool).totalCount).toBeLessThanOrEqual(2);
    });

    it('a query issued on the handle after the unit ended is refused (UNIT_OF_WORK_ENDED), never run in the next unit', async () => {
      const { urlAs, appRole } = rls();
      const one = new pg.Pool({ connectionString: urlAs(appRole), max: 1 });
      try {
        const uow = createTenantUnitOfWork(one);
        let kept: PgPoolClientLike | undefined;
        let late: Promise<unknown> | undefined;
        await runUnit(
          uow,
          async (c) => {
            kept = c;
          },
          { tenantId: TENANTS[0] },
        );
        // Tenant B now holds the only connection; A's kept handle queries during B's unit.
        const bRows = await runUnit(
          uow,
          async (c) => {
            late = kept!.query('SELECT tenant_id FROM customers');
            await late.catch(() => undefined);
            return (await c.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM customers')).rows;
          },
          { tenantId: TENANTS[1] },
        );
        expect(bRows).toEqual([{ tenant_id: TENANTS[1] }]);
        expect(await settledCode(late!)).toBe('UNIT_OF_WORK_ENDED');
        // A query started but not awaited runs inside its own unit, and run waits for it before COMMIT.
        const order: string[] = [];
        let notAwaited: Promise<{ rows: Array<{ s: string }> }> | undefined;
        await runUnit(
          uow,
          async (c) => {
            notAwaited = c
              .query<{ s: string }>("SELECT pg_sleep(0.05), current_setting('app.tenant_id', true) AS s")
              .then((r) => {
                order.push('query');
                return r;
              });
          },
          { tenantId: TENANTS[2] },
        );
        order.push('run returned');
        expect(order).toEqual(['query', 'run returned']);
        expect((await notAwaited!).rows[0]!.s).toBe(TENANTS[2]);
      } finally {
        await one.end();
      }
    });

    it("session-level SET of the tenant inside a unit does not survive its release: a later plain query sees no tenant's rows", async () => {
      const { urlAs, appRole } = rls();
      const one = new pg.Pool({ connectionString: urlAs(appRole), max: 1 });
      try {
        const uow = createTenantUnitOfWork(one);
        for (const sql of [
          `SET app.tenant_id = '${TENANTS[3]}'`,
          `SELECT set_config('app.tenant_id', '${TENANTS[3]}', false)`,
        ]) {
          await runUnit(uow, (c) => c.query(sql), { tenantId: TENANTS[3] });
          const plain = await one.query<{ s: string | null; n: number }>(
            "SELECT current_setting('app.tenant_id', true) AS s, (SELECT count(*)::int FROM customers) AS n",
          );
          expect([plain.rows[0]!.s ?? '', plain.rows[0]!.n]).toEqual(['', 0]);
        }
      } finally {
        await one.end();
      }
    });

    it("refuses a superuser or BYPASSRLS connection with the startup check's codes, checking each physical connection once", async () => {
      const { admin, urlAs, appRole, createRole } = rls();
      expect(
        await settledCode(runUnit(createTenantUnitOfWork(admin), async () => 1, { tenantId: TENANTS[0] })),
      ).toBe('RLS_SUPERUSER');
      const bypass = await createRole('uowbyp', 'BYPASSRLS');
      const bypassPool = new pg.Pool({ connectionString: urlAs(bypass), max: 1 });
      const one = new pg.Pool({ connectionString: urlAs(appRole), max: 1 });
      try {
        expect(
          await settledCode(
            runUnit(createTenantUnitOfWork(bypassPool), async () => 1, { tenantId: TENANTS[0] }),
          ),
        ).toBe('RLS_BYPASSRLS');
        let roleChecks = 0;
        const spied = new WeakSet<object>();
        const counting = {
          query: one.query.bind(one),
          connect: async () => {
            const c = await one.connect();
            if (!spied.has(c)) {
              spied.add(c);
              const q = c.query.bind(c) as (text: string, values?: unknown[]) => Promise<unknown>;
              (c as unknown as { query: typeof q }).query = (text, values) => {
                if (String(text).includes('pg_roles')) roleChecks++;
                return q(text, values);
              };
            }
            return c;
          },
        } as unknown as PgPoolLike;
        const uow = createTenantUnitOfWork(counting);
        for (let i = 0; i < 3; i++) await runUnit(uow, (c) => c.query('SELECT 1'), { tenantId: TENANTS[0] });
        expect(roleChecks).toBe(1);
      } finally {
        await bypassPool.end();
        await one.end();
      }
    });
  },
);
