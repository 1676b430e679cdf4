import { hasBackend, recordSocketWrites, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type PgPoolClientLike,
  type PgPoolLike,
  type PgUnitOfWorkClient,
  isTenantryError,
  runAsTenant,
} from '../src/index.js';
import { settledCode } from '../src/testing.js';
import { createTenantUnitOfWork } from '../src/postgres.js';
import { asTenant, runUnit, useRlsDatabase } from './helpers.js';

const TENANTS = Array.from({ length: 40 }, (_, i) => `tenant-${i}`);
const ROWS_PER_TENANT = (i: number) => (i % 7) + 1;

// Every case runs twice: with `pg` awaiting each reply, and in pipeline mode, where the unit writes
// BEGIN + the tenant setting together with the caller's statements (issue 20).
describe.skipIf(!hasBackend('postgres')).each([
  { pipeline: false, mode: 'one reply at a time' },
  { pipeline: true, mode: 'pg pipeline mode' },
])(`unit of work over a pool of TWO connections, $mode${skipLabel('postgres')}`, ({ pipeline }) => {
  const db = useTestDatabase();
  const rls = useRlsDatabase(db, 2, pipeline);

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
            await c.query('INSERT INTO customers (tenant_id, name) VALUES ($1, $2)', [tenantId, `tmp-${n}`]);
            if (mode === 0) throw new Error(`boom ${n}`);
            if (mode === 1) {
              // A statement fails and the callback swallows the error: COMMIT must not pretend to succeed.
              await c.query('SELECT 1 / 0').catch(() => undefined);
              return;
            }
            // Leave the count as it was so later units see the same numbers.
            await c.query("DELETE FROM customers WHERE name LIKE 'tmp-%'");
            const again = await c.query<{ s: string }>("SELECT current_setting('app.tenant_id', true) AS s");
            expect(again.rows[0]!.s).toBe(tenantId);
          },
          opts,
        );
      // Half of the units take the tenant from the context, half from the argument.
      const run =
        n % 2 ? () => runAsTenant({ tenantId, actor: { id: 'u' } }, () => work()) : () => work({ tenantId });
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
    const { poolAs, appRole } = rls();
    const one = poolAs(appRole, 1);
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

  it("the handle reports its transaction status as an in-transaction { tx } does: 'T' from the start (also before a pipelined BEGIN is answered), 'E' after a failed statement, null once ended", async () => {
    const { poolAs, appRole } = rls();
    const one = poolAs(appRole, 1);
    try {
      const uow = createTenantUnitOfWork(one);
      let kept: PgUnitOfWorkClient | undefined;
      await runUnit(
        uow,
        async (c) => {
          kept = c;
        },
        { tenantId: TENANTS[0] },
      );
      const statuses: Array<string | null> = [];
      await runUnit(
        uow,
        async (c) => {
          statuses.push(c.getTransactionStatus());
          await c.query('SELECT 1');
          statuses.push(c.getTransactionStatus());
          await c.query('SELECT 1 / 0').catch(() => undefined);
          statuses.push(c.getTransactionStatus());
          throw new Error('done');
        },
        { tenantId: TENANTS[0] },
      ).catch(() => undefined);
      // pg may reject the failed statement at its ErrorResponse, before the ReadyForQuery that carries
      // 'E' has arrived: 'T' is still true then (PostgreSQL refuses the next statement, 25P02). Either
      // way the handle never answers 'I' or null inside its unit.
      expect(statuses.slice(0, 2)).toEqual(['T', 'T']);
      expect(['T', 'E']).toContain(statuses[2]);
      expect(kept!.getTransactionStatus()).toBeNull();
    } finally {
      await one.end();
    }
  });

  it('the handle is ended on every exit path of fn (sync throw, thrown non-Error, rejection, non-promise return): a kept handle never runs in the next unit', async () => {
    const { poolAs, appRole } = rls();
    const one = poolAs(appRole, 1);
    try {
      const uow = createTenantUnitOfWork(one);
      const exits: Array<[string, (c: PgPoolClientLike) => unknown]> = [
        [
          'sync throw',
          () => {
            throw new Error('sync');
          },
        ],
        [
          'sync throw of a non-Error',
          () => {
            throw 'not an error';
          },
        ],
        ['async rejection', async () => Promise.reject(new Error('async'))],
        ['non-promise return', () => 42],
      ];
      for (const [what, exit] of exits) {
        let kept: PgPoolClientLike | undefined;
        await runUnit(
          uow,
          ((c: PgPoolClientLike) => {
            kept = c;
            return exit(c);
          }) as (c: PgPoolClientLike) => Promise<unknown>,
          { tenantId: TENANTS[0] },
        ).catch(() => undefined);
        let late: Promise<unknown> | undefined;
        const bRows = await runUnit(
          uow,
          async (c) => {
            await c.query('SELECT 1');
            late = kept!.query('SELECT tenant_id FROM customers');
            await late.catch(() => undefined);
            return (await c.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM customers')).rows;
          },
          { tenantId: TENANTS[1] },
        );
        expect(bRows, what).toEqual([{ tenant_id: TENANTS[1] }]);
        expect(await settledCode(late!), what).toBe('UNIT_OF_WORK_ENDED');
      }
    } finally {
      await one.end();
    }
  });

  it("session-level SET of the tenant inside a unit does not survive its release: a later plain query sees no tenant's rows", async () => {
    const { poolAs, appRole } = rls();
    const one = poolAs(appRole, 1);
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

  it("a WITH HOLD cursor or a temporary table a unit fills with its tenant's rows does not reach the next holder of the connection", async () => {
    const { poolAs, appRole } = rls();
    const one = poolAs(appRole, 1);
    try {
      const uow = createTenantUnitOfWork(one);
      // Both outlive COMMIT in the session: a WITH HOLD cursor is materialised at COMMIT (with the
      // tenant's setting still in force), a temporary table keeps its rows.
      const made: Array<[string, (name: string) => Promise<unknown>]> = [
        [
          'FETCH',
          (n) =>
            asTenant(TENANTS[0]!, () =>
              uow.query(`DECLARE ${n} CURSOR WITH HOLD FOR SELECT tenant_id FROM customers`),
            ),
        ],
        [
          'FETCH',
          (n) =>
            runUnit(
              uow,
              (c) => c.query(`DECLARE ${n} CURSOR WITH HOLD FOR SELECT tenant_id FROM customers`),
              { tenantId: TENANTS[0] },
            ),
        ],
        [
          'SELECT',
          (n) =>
            asTenant(TENANTS[0]!, () =>
              uow.query(`CREATE TEMP TABLE ${n} AS SELECT tenant_id FROM customers`),
            ),
        ],
        [
          'SELECT',
          (n) =>
            runUnit(uow, (c) => c.query(`CREATE TEMP TABLE ${n} AS SELECT tenant_id FROM customers`), {
              tenantId: TENANTS[0],
            }),
        ],
      ];
      for (const [i, [reader, make]] of made.entries()) {
        const name = `held_${i}`;
        await make(name);
        const read = reader === 'FETCH' ? `FETCH ALL FROM ${name}` : `SELECT * FROM ${name}`;
        // The next holder, another tenant's unit or a plain query: the object is gone.
        for (const next of [() => asTenant(TENANTS[1]!, () => uow.query(read)), () => one.query(read)]) {
          expect(
            await next().then(
              () => 'resolved',
              (e: { code?: string }) => e.code,
            ),
          ).toBe(reader === 'FETCH' ? '34000' : '42P01');
        }
        const left = await one.query<{ n: number }>(
          'SELECT (SELECT count(*)::int FROM pg_cursors) + (SELECT count(*)::int FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS n',
        );
        expect(left.rows[0]?.n).toBe(0);
      }
    } finally {
      await one.end();
    }
  });

  it("refuses a superuser or BYPASSRLS connection with the startup check's codes, checking each physical connection once", async () => {
    const { admin, poolAs, appRole, createRole } = rls();
    expect(
      await settledCode(runUnit(createTenantUnitOfWork(admin), async () => 1, { tenantId: TENANTS[0] })),
    ).toBe('RLS_SUPERUSER');
    const bypass = await createRole('uowbyp', 'BYPASSRLS');
    const bypassPool = poolAs(bypass, 1);
    const one = poolAs(appRole, 1);
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

  /** Every connection of `pool` is back clean: no tenant, no open transaction, nothing visible. */
  const expectClean = async (pool: pg.Pool, n: number) => {
    const clients = await Promise.all(Array.from({ length: n }, () => pool.connect()));
    try {
      for (const c of clients) {
        const r = await c.query(
          "SELECT current_setting('app.tenant_id', true) AS s, (SELECT count(*)::int FROM customers) AS n, now() = statement_timestamp() AS fresh",
        );
        expect([r.rows[0].s ?? '', r.rows[0].n, r.rows[0].fresh]).toEqual(['', 0, true]);
      }
    } finally {
      for (const c of clients) c.release();
    }
  };

  /** A pool whose clients log when a statement is handed to the driver and when its reply comes back. */
  const tracing = (pool: pg.Pool, log: string[]): PgPoolLike => {
    // One wrapper per physical connection, so the unit's once-per-connection role check sees it once.
    const wrappers = new WeakMap<object, PgPoolClientLike>();
    const wrap = (c: pg.PoolClient): PgPoolClientLike => {
      const known = wrappers.get(c);
      if (known) return known;
      const w = {
        pipeline: (c as unknown as { pipeline: boolean }).pipeline,
        on: c.on.bind(c),
        removeListener: c.removeListener.bind(c),
        release: (d?: boolean | Error) => c.release(d),
        query: (text: string, values?: unknown[]) => {
          const label = String(text).split(' ')[0]!;
          log.push(`send ${label}`);
          return c.query(text, values).finally(() => log.push(`reply ${label}`));
        },
      } as unknown as PgPoolClientLike;
      wrappers.set(c, w);
      return w;
    };
    return {
      query: pool.query.bind(pool) as PgPoolLike['query'],
      connect: async () => wrap(await pool.connect()),
    };
  };

  it('uow.query: one statement as a unit of work, sees only its tenant, and on a pipelined pool writes BEGIN, the statement and COMMIT before any reply', async () => {
    const { app } = rls();
    const log: string[] = [];
    const uow = createTenantUnitOfWork(tracing(app as pg.Pool, log));
    // Warm the role check of both connections, then trace one unit.
    await Promise.all([0, 1].map(() => asTenant(TENANTS[0]!, () => uow.query('SELECT 1'))));
    log.length = 0;
    const r = await asTenant(TENANTS[5]!, () =>
      uow.query<{ tenant_id: string; s: string }>(
        "SELECT tenant_id, current_setting('app.tenant_id', true) AS s FROM customers WHERE name = $1",
        ['c'],
      ),
    );
    expect(r.rows).toHaveLength(ROWS_PER_TENANT(5));
    expect(r.rows.every((x) => x.tenant_id === TENANTS[5] && x.s === TENANTS[5])).toBe(true);
    if (pipeline) {
      // The last message is the session reset and COMMIT (`CLOSE ALL; …; COMMIT`).
      expect(log.slice(0, 3)).toEqual(['send BEGIN', 'send SELECT', 'send CLOSE']);
    } else {
      expect(log).toEqual([
        'send BEGIN',
        'reply BEGIN',
        'send SELECT',
        'reply SELECT',
        'send CLOSE',
        'reply CLOSE',
      ]);
    }
    // A caller that issues its statements without awaiting in between: on a pipelined pool they
    // leave with BEGIN, before its reply.
    log.length = 0;
    const counts = await asTenant(TENANTS[6]!, () =>
      uow.run((c) =>
        Promise.all([
          c.query<{ n: number }>('SELECT count(*)::int AS n FROM customers'),
          c.query<{ n: number }>('SELECT count(*)::int AS n FROM customers WHERE tenant_id <> $1', [
            TENANTS[6],
          ]),
        ]),
      ),
    );
    expect(counts.map((x) => x.rows[0]!.n)).toEqual([ROWS_PER_TENANT(6), 0]);
    expect(log.indexOf('reply BEGIN') > log.lastIndexOf('send SELECT')).toBe(pipeline);
    // A callback that hands back its last statement's promise unawaited: COMMIT goes out right behind it.
    log.length = 0;
    const one = await asTenant(TENANTS[7]!, () =>
      uow.run((c) => c.query<{ n: number }>('SELECT count(*)::int AS n FROM customers')),
    );
    expect(one.rows[0]!.n).toBe(ROWS_PER_TENANT(7));
    expect(log.slice(0, 3)).toEqual(
      pipeline ? ['send BEGIN', 'send SELECT', 'send CLOSE'] : ['send BEGIN', 'reply BEGIN', 'send SELECT'],
    );
    // …and a statement it tries to issue afterwards (from the promise's continuation) is refused, never
    // run after COMMIT on a connection that is back in the pool.
    let late: Promise<unknown> | undefined;
    await asTenant(TENANTS[7]!, () =>
      uow.run((c) => {
        const p = c.query('SELECT 1');
        void p.then(() => {
          late = c.query("INSERT INTO customers (tenant_id, name) VALUES ($1, 'late')", [TENANTS[7]]);
          late.catch(() => undefined);
        });
        return p;
      }),
    );
    await new Promise((r) => setTimeout(r, 20));
    // Awaiting each reply, the unit waits for `fn`'s promise, so the continuation's INSERT is still part
    // of the unit (issued before COMMIT, committed with it); pipelined, it is refused.
    if (pipeline) expect(await settledCode(late!)).toBe('UNIT_OF_WORK_ENDED');
    else await late;
    const lateRows = await rls().admin.query("DELETE FROM customers WHERE name = 'late' RETURNING tenant_id");
    expect(lateRows.rows).toEqual(pipeline ? [] : [{ tenant_id: TENANTS[7] }]);
    // Outside a context the tenant cannot be named; bad statements are refused before any I/O.
    expect(await settledCode(uow.query('SELECT 1', [], { tenantId: TENANTS[0] }))).toBe(
      'TENANT_CONTEXT_MISSING',
    );
    expect(await settledCode(asTenant(TENANTS[0]!, () => uow.query('')))).toBe('VALIDATION_FAILED');
    expect(await settledCode(asTenant(TENANTS[0]!, () => uow.query(42 as unknown as string)))).toBe(
      'VALIDATION_FAILED',
    );
    await expectClean(app as pg.Pool, 2);
  });

  it('socket writes per unit: on a pipelined pool uow.query leaves in ONE write (BEGIN, statement, COMMIT), a callback issuing statements together shares BEGIN’s write; awaiting each reply, one write per round trip', async () => {
    const { app } = rls();
    const uow = createTenantUnitOfWork(app);
    // Warm the role check of both connections, then count the socket writes of one unit.
    await Promise.all([0, 1].map(() => asTenant(TENANTS[0]!, () => uow.query('SELECT 1'))));
    let log = recordSocketWrites();
    try {
      const r = await asTenant(TENANTS[4]!, () =>
        uow.query<{ n: number }>('SELECT count(*)::int AS n FROM customers WHERE name <> $1', ['-']),
      );
      expect(r.rows[0]!.n).toBe(ROWS_PER_TENANT(4));
    } finally {
      log.restore();
    }
    expect(log.writes).toHaveLength(pipeline ? 1 : 3);
    log = recordSocketWrites();
    try {
      const both = await asTenant(TENANTS[4]!, () =>
        uow.run(async (c) => {
          const [a, b] = await Promise.all([
            c.query<{ n: number }>('SELECT count(*)::int AS n FROM customers'),
            c.query<{ n: number }>('SELECT 2 AS n'),
          ]);
          return [a.rows[0]!.n, b.rows[0]!.n];
        }),
      );
      expect(both).toEqual([ROWS_PER_TENANT(4), 2]);
    } finally {
      log.restore();
    }
    // Pipelined: BEGIN + both statements, then COMMIT. Awaiting: BEGIN, each statement, COMMIT.
    expect(log.writes).toHaveLength(pipeline ? 2 : 4);
    await expectClean(app as pg.Pool, 2);
  });

  it('an error in the middle of a pipelined unit rolls the whole unit back, and the connection comes back clean', async () => {
    const { app } = rls();
    const uow = createTenantUnitOfWork(app);
    const tenantId = TENANTS[7]!;
    for (let round = 0; round < 10; round++) {
      // Three statements issued without awaiting: the middle one fails, the others succeed or are
      // refused (25P02) by the aborted transaction; none may survive.
      await expect(
        runUnit(
          uow,
          (c) =>
            Promise.all([
              c.query("INSERT INTO customers (tenant_id, name) VALUES ($1, 'mid-1')", [tenantId]),
              c.query('SELECT 1 / 0'),
              c.query("INSERT INTO customers (tenant_id, name) VALUES ($1, 'mid-2')", [tenantId]),
            ]),
          { tenantId },
        ),
      ).rejects.toThrow(/division by zero/);
      // The same with the failure caught inside: COMMIT reports the rollback.
      expect(
        await settledCode(
          runUnit(
            uow,
            async (c) => {
              const a = c.query("INSERT INTO customers (tenant_id, name) VALUES ($1, 'mid-3')", [tenantId]);
              const b = c.query('SELECT 1 / 0').catch(() => undefined);
              const d = c.query("INSERT INTO customers (tenant_id, name) VALUES ($1, 'mid-4')", [tenantId]);
              await Promise.all([a, b, d.catch(() => undefined)]);
            },
            { tenantId },
          ),
        ),
      ).toBe('UNIT_OF_WORK_ROLLED_BACK');
      // One statement that RLS refuses (another tenant's row): rejected, nothing written.
      await expect(
        asTenant(tenantId, () =>
          uow.query("INSERT INTO customers (tenant_id, name) VALUES ($1, 'mid-5')", [TENANTS[8]]),
        ),
      ).rejects.toThrow(/row-level security/);
    }
    const left = await rls().admin.query("SELECT count(*)::int AS n FROM customers WHERE name LIKE 'mid-%'");
    expect(left.rows[0].n).toBe(0);
    await expectClean(app as pg.Pool, 2);
    // And the next units on those connections see their own tenant only.
    const seen = await Promise.all(
      [9, 10].map((i) =>
        asTenant(TENANTS[i]!, () =>
          uow.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM customers'),
        ),
      ),
    );
    expect(seen.map((r) => r.rows)).toEqual([[{ tenant_id: TENANTS[9] }], [{ tenant_id: TENANTS[10] }]]);
  });

  it('a connection killed in the middle of a pipelined unit: the unit fails, nothing commits, the dead connection is never reused', async () => {
    const { app, admin } = rls();
    const uow = createTenantUnitOfWork(app);
    const tenantId = TENANTS[11]!;
    let killedPid = 0;
    const unit = runUnit(
      uow,
      async (c) => {
        const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        // Queue several statements behind a slow one, then kill the backend while they are in flight.
        const queued = [
          c.query("INSERT INTO customers (tenant_id, name) VALUES ($1, 'killed-1')", [tenantId]),
          c.query('SELECT pg_sleep(2)'),
          c.query("INSERT INTO customers (tenant_id, name) VALUES ($1, 'killed-2')", [tenantId]),
        ];
        await new Promise((r) => setTimeout(r, 150));
        killedPid = pid;
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await Promise.all(queued);
      },
      { tenantId },
    );
    await expect(unit).rejects.toThrow();
    // The one-statement form, killed while its statement runs.
    const pidOf = asTenant(tenantId, () =>
      uow.query<{ pid: number }>(
        "SELECT pg_backend_pid() AS pid, pg_sleep(2) FROM (VALUES (1)) v WHERE set_config('x.y', 'z', true) IS NOT NULL",
      ),
    );
    // Observed now: the killed connection's error can be read before the reply to pg_terminate_backend,
    // and the unit then rejects before the `expect` below is reached (an unhandled rejection).
    pidOf.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 150));
    const active = await admin.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(2) FROM (VALUES%' AND pid <> pg_backend_pid()",
    );
    expect(active.rows).toHaveLength(1);
    await admin.query('SELECT pg_terminate_backend($1)', [active.rows[0]!.pid]);
    await expect(pidOf).rejects.toThrow();
    const left = await admin.query("SELECT count(*)::int AS n FROM customers WHERE name LIKE 'killed-%'");
    expect(left.rows[0].n).toBe(0);
    const seen = new Set<number>();
    await Promise.all(
      Array.from({ length: 20 }, () =>
        asTenant(TENANTS[12]!, async () => {
          const r = await uow.query<{ pid: number; s: string }>(
            "SELECT pg_backend_pid() AS pid, current_setting('app.tenant_id', true) AS s",
          );
          seen.add(r.rows[0]!.pid);
          expect(r.rows[0]!.s).toBe(TENANTS[12]);
        }),
      ),
    );
    expect(killedPid).toBeGreaterThan(0);
    expect(seen.has(killedPid)).toBe(false);
    expect(seen.has(active.rows[0]!.pid)).toBe(false);
    expect((app as pg.Pool).totalCount).toBeLessThanOrEqual(2);
    await expectClean(app as pg.Pool, 2);
  });
});
