import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import { type OpenPgClient, PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromKysely } from '../src/kysely.js';
import { createTenantUnitOfWork, type TenantUnitOfWork } from '../src/postgres.js';
import { fromPostgresJs } from '../src/postgres-js.js';
import { settledCode } from '../src/testing.js';
import { asTenant, useRlsDatabase } from './helpers.js';

const db = useTestDatabase();
const TENANTS = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
const ROWS_PER_TENANT = (i: number) => (i % 5) + 1;

describe.skipIf(!hasBackend('postgres'))(
  `tenant unit of work through each client kind${skipLabel('postgres')}`,
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

    for (const kind of PG_CLIENT_KINDS) {
      describe(kind.name, () => {
        let client: OpenPgClient;
        let uow: TenantUnitOfWork<unknown>;
        const rows = (h: unknown, text: string) => kind.nativeRows(h, text);
        const run = <R>(tenantId: string, fn: (h: unknown) => Promise<R>, readOnly = false) =>
          asTenant(tenantId, () => uow.run(fn, { readOnly }));

        beforeAll(() => {
          client = kind.open(rls().urlAs(rls().appRole), { max: 2 });
          uow = createTenantUnitOfWork(client.pool as Parameters<typeof createTenantUnitOfWork>[0]);
        });
        afterAll(() => client.close());

        it("interleaved units for 12 tenants see only their tenant's setting and rows, through the library's own handle", async () => {
          await Promise.all(
            Array.from({ length: 60 }, async (_, n) => {
              const i = (n * 7) % TENANTS.length;
              const tenantId = TENANTS[i] as string;
              await run(tenantId, async (h) => {
                const s = await rows(h, "SELECT current_setting('app.tenant_id', true) AS s");
                expect(s[0]?.s).toBe(tenantId);
                await new Promise((r) => setTimeout(r, n % 3));
                const seen = await rows(h, 'SELECT tenant_id FROM customers');
                expect(seen).toHaveLength(ROWS_PER_TENANT(i));
                expect(seen.every((r) => r.tenant_id === tenantId)).toBe(true);
              });
            }),
          );
        });

        it("uow.query runs one statement in the library's transaction: its tenant only, a failure rolls back", async () => {
          const seen = await Promise.all(
            TENANTS.map((tenantId) =>
              asTenant(tenantId, () =>
                uow.query<{ tenant_id: string; s: string }>(
                  "SELECT tenant_id, current_setting('app.tenant_id', true) AS s FROM customers WHERE name = $1",
                  ['c'],
                ),
              ),
            ),
          );
          for (const [i, r] of seen.entries()) {
            expect(r.rows).toHaveLength(ROWS_PER_TENANT(i));
            expect(r.rows.every((x) => x.tenant_id === TENANTS[i] && x.s === TENANTS[i])).toBe(true);
          }
          const t = TENANTS[2] as string;
          await expect(
            asTenant(t, () =>
              uow.query("INSERT INTO customers (tenant_id, name) VALUES ($1, 'q')", [TENANTS[3]]),
            ),
          ).rejects.toThrow();
          const left = await rls().admin.query("SELECT count(*)::int AS n FROM customers WHERE name = 'q'");
          expect(left.rows[0].n).toBe(0);
        });

        it('a throw in the callback rolls the unit back; a caught SQL error is UNIT_OF_WORK_ROLLED_BACK', async () => {
          const t = TENANTS[1] as string;
          const count = async () =>
            Number((await run(t, (h) => rows(h, 'SELECT count(*)::int AS n FROM customers')))[0]?.n);
          const before = await count();
          await expect(
            run(t, async (h) => {
              await rows(h, `INSERT INTO customers (tenant_id, name) VALUES ('${t}', 'tmp')`);
              throw new Error('boom');
            }),
          ).rejects.toThrow('boom');
          expect(await count()).toBe(before);
          const code = await settledCode(
            run(t, async (h) => {
              await rows(h, `INSERT INTO customers (tenant_id, name) VALUES ('${t}', 'tmp')`);
              await rows(h, 'SELECT 1 / 0').catch(() => undefined);
            }),
          );
          expect(code).toBe('UNIT_OF_WORK_ROLLED_BACK');
          expect(await count()).toBe(before);
        });

        it('an insert for another tenant is refused by the policy; readOnly opens a READ ONLY transaction', async () => {
          // Drizzle wraps the driver's error (DrizzleQueryError, the driver's as its cause).
          const state = await run(TENANTS[2] as string, (h) =>
            rows(h, `INSERT INTO customers (tenant_id, name) VALUES ('${TENANTS[3]}', 'x')`),
          ).then(
            () => 'inserted',
            (e: { code?: string; cause?: { code?: string } }) => e.code ?? e.cause?.code,
          );
          expect(state).toBe('42501');
          const ro = await run(TENANTS[2] as string, (h) => rows(h, 'SHOW transaction_read_only'), true);
          expect(ro[0]?.transaction_read_only).toBe('on');
        });

        it('a session-level SET of the tenant inside a unit does not survive it', async () => {
          await run(TENANTS[4] as string, (h) => rows(h, `SET app.tenant_id = '${TENANTS[5]}'`));
          // Both pooled connections: none carries the setting into a plain query.
          const plain = await Promise.all(
            [1, 2].map(() =>
              client.pool.query<{ s: string | null }>(
                "SELECT current_setting('app.tenant_id', true) AS s, pg_sleep(0.05)",
              ),
            ),
          );
          for (const r of plain) expect(r.rows[0]?.s ?? '').toBe('');
        });

        it('a WITH HOLD cursor or a temporary table filled in a unit does not outlive it on either pooled connection', async () => {
          await run(TENANTS[4] as string, async (h) => {
            await rows(h, 'DECLARE held CURSOR WITH HOLD FOR SELECT tenant_id FROM customers');
            await rows(h, 'CREATE TEMP TABLE held_rows AS SELECT tenant_id FROM customers');
          });
          const left = await Promise.all(
            [1, 2].map(() =>
              client.pool.query<{ n: number }>(
                'SELECT (SELECT count(*)::int FROM pg_cursors) + (SELECT count(*)::int FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS n, pg_sleep(0.05)',
              ),
            ),
          );
          for (const r of left) expect(r.rows[0]?.n).toBe(0);
        });

        it("a query on the library's handle after the unit ended is UNIT_OF_WORK_ENDED and never runs", async () => {
          let kept: unknown;
          await run(TENANTS[7] as string, async (h) => {
            kept = h;
            return rows(h, 'SELECT 1 AS one');
          });
          const ended = await kind
            .nativeRows(kept, `INSERT INTO customers (tenant_id, name) VALUES ('${TENANTS[7]}', 'late')`)
            .then(
              () => 'ran',
              (e: { code?: string; cause?: { code?: string } }) => e.code ?? e.cause?.code,
            );
          expect(ended).toBe('UNIT_OF_WORK_ENDED');
          const late = await run(TENANTS[7] as string, (h) =>
            rows(h, "SELECT count(*)::int AS n FROM customers WHERE name = 'late'"),
          );
          expect(late[0]?.n).toBe(0);
        });

        it.runIf(kind.name.startsWith('drizzle'))(
          "Drizzle: the transaction's driver client (tx.session.client) is refused after the unit ended, never run in the next unit",
          async () => {
            let kept: { session: { client: Record<string, (text: string) => unknown> } } | undefined;
            await run(TENANTS[8] as string, async (h) => {
              kept = h as typeof kept;
              return rows(h, 'SELECT 1 AS one');
            });
            const client = kept!.session.client;
            const call = () =>
              typeof client.query === 'function'
                ? client.query(`INSERT INTO customers (tenant_id, name) VALUES ('${TENANTS[8]}', 'late-raw')`)
                : client.unsafe!(
                    `INSERT INTO customers (tenant_id, name) VALUES ('${TENANTS[8]}', 'late-raw')`,
                  );
            const code = await Promise.resolve()
              .then(call)
              .then(
                () => 'ran',
                (e: { code?: string }) => e.code ?? String(e),
              );
            expect(code).toBe('UNIT_OF_WORK_ENDED');
            const late = await run(TENANTS[8] as string, (h) =>
              rows(h, "SELECT count(*)::int AS n FROM customers WHERE name = 'late-raw'"),
            );
            expect(late[0]?.n).toBe(0);
          },
        );

        it('refuses a superuser connection with RLS_SUPERUSER', async () => {
          const su = kind.open(db.url(), { max: 1 });
          try {
            const u = createTenantUnitOfWork(su.pool as Parameters<typeof createTenantUnitOfWork>[0]);
            expect(await settledCode(asTenant(TENANTS[0] as string, () => u.run(async () => 1)))).toBe(
              'RLS_SUPERUSER',
            );
          } finally {
            await su.close();
          }
        });
      });
    }

    it("postgres.js: a query built inside a unit but first run after it ended (then, execute, cursor, forEach, values, a savepoint's sql) is UNIT_OF_WORK_ENDED, never run in the next unit", async () => {
      const sql = postgres(rls().urlAs(rls().appRole), { max: 1, onnotice: () => undefined });
      try {
        const puow = createTenantUnitOfWork(fromPostgresJs(sql));
        const SELECT = "SELECT tenant_id, current_setting('app.tenant_id', true) AS s FROM customers";
        type Lazy = PromiseLike<unknown> & {
          execute(): Lazy;
          values(): Lazy;
          cursor(n: number, fn: (rows: unknown[]) => void): Promise<unknown>;
          forEach(fn: (row: unknown) => void): Promise<unknown>;
        };
        const kept: Record<string, Lazy> = {};
        await asTenant(TENANTS[3] as string, () =>
          puow.run(async (tx) => {
            kept.awaited = tx.unsafe(SELECT) as unknown as Lazy;
            kept.execute = tx.unsafe(SELECT) as unknown as Lazy;
            kept.cursor = tx.unsafe(SELECT) as unknown as Lazy;
            kept.forEach = tx.unsafe(SELECT) as unknown as Lazy;
            kept.values = tx.unsafe(SELECT) as unknown as Lazy;
            await tx.savepoint(async (sp) => {
              kept.savepoint = sp.unsafe(SELECT) as unknown as Lazy;
            });
            return 'ok';
          }),
        );
        const seen: unknown[] = [];
        const outcome = (p: PromiseLike<unknown>) =>
          Promise.resolve(p).then(
            () => 'ran',
            (e: { code?: string }) => e.code ?? String(e),
          );
        const codes = await asTenant(TENANTS[4] as string, () =>
          puow.run(async (tx) => {
            await tx`SELECT 1`;
            return {
              awaited: await outcome(kept.awaited as Lazy),
              execute: await outcome(kept.execute?.execute() as Lazy),
              cursor: await outcome((kept.cursor as Lazy).cursor(1, (r) => void seen.push(...r))),
              forEach: await outcome((kept.forEach as Lazy).forEach((r) => void seen.push(r))),
              values: await outcome((kept.values as Lazy).values()),
              savepoint: await outcome(kept.savepoint as Lazy),
            };
          }),
        );
        expect(codes).toEqual({
          awaited: 'UNIT_OF_WORK_ENDED',
          execute: 'UNIT_OF_WORK_ENDED',
          cursor: 'UNIT_OF_WORK_ENDED',
          forEach: 'UNIT_OF_WORK_ENDED',
          values: 'UNIT_OF_WORK_ENDED',
          savepoint: 'UNIT_OF_WORK_ENDED',
        });
        expect(seen).toEqual([]);
      } finally {
        await sql.end();
      }
    });

    it('Kysely: the unit hands back a typed Transaction<DB>; a query on it after the unit ended is UNIT_OF_WORK_ENDED', async () => {
      interface DB {
        customers: { tenant_id: string; id: string; name: string };
      }
      const k = new Kysely<DB>({
        dialect: new PostgresDialect({
          pool: new pg.Pool({ connectionString: rls().urlAs(rls().appRole), max: 2 }),
        }),
      });
      try {
        const kuow = createTenantUnitOfWork(fromKysely(k));
        let kept: (() => Promise<unknown>) | undefined;
        const names = await asTenant(TENANTS[6] as string, () =>
          kuow.run(async (trx) => {
            kept = () => trx.selectFrom('customers').select('tenant_id').execute();
            return trx.selectFrom('customers').select(['tenant_id', 'name']).execute();
          }),
        );
        expect(names).toHaveLength(ROWS_PER_TENANT(6));
        expect(names.every((r) => r.tenant_id === TENANTS[6])).toBe(true);
        expect(await settledCode((kept as () => Promise<unknown>)())).toBe('UNIT_OF_WORK_ENDED');
      } finally {
        await k.destroy();
      }
    });
  },
);
