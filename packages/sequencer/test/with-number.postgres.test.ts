import { requireTenantId } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import { hasBackend, recordSocketWrites, skipLabel } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import { defineSeries, type Series } from '../src/index.js';
import { createPostgresSequencer, type PostgresWriteContext, sequencerMigrations } from '../src/postgres.js';
import {
  asTenant,
  currentTenant,
  freshSeriesKey,
  freshTenant,
  tenantIt as it,
  useBackends,
  counterValue,
} from './helpers.js';

const env = useBackends();
const outcome = async <T>(p: Promise<T>): Promise<{ ok: T } | { code: string }> => {
  try {
    return { ok: await p };
  } catch (e) {
    if (process.env.DEBUG_OUTCOME) console.log(e, (e as { cause?: unknown }).cause);
    return { code: (e as { code?: string }).code ?? (e as Error).message };
  }
};

// Every case runs with `pg` awaiting each reply, and in pipeline mode (BEGIN written with the locking
// statement, each savepoint with its write: issues 18 and 20).
describe.skipIf(!hasBackend('postgres')).each([
  { pipeline: false, mode: 'one reply at a time' },
  { pipeline: true, mode: 'pg pipeline mode' },
])(`PostgreSQL withNumber (plain and combining), $mode${skipLabel('postgres')}`, ({ pipeline }) => {
  let pool: pg.Pool;
  const series = (def: Partial<Parameters<typeof defineSeries>[0]> = {}): Series =>
    defineSeries({ key: freshSeriesKey(), ...def });
  const insert = (a: PostgresWriteContext, label = 'x') =>
    a.tx.query('INSERT INTO wdocs (tenant, series, period, number, label) VALUES ($1, $2, $3, $4, $5)', [
      a.tenant,
      a.series,
      a.period,
      a.number,
      label,
    ]);
  const insertAndNumber = async (a: PostgresWriteContext) => {
    await insert(a);
    return a.number;
  };
  const docs = async (s: Series) =>
    (
      await pool.query<{ number: string; label: string; xid: string }>(
        'SELECT number, label, xid FROM wdocs WHERE tenant = $1 AND series = $2 ORDER BY number',
        [currentTenant(), s.key],
      )
    ).rows.map((r) => ({ n: Number(r.number), label: r.label, xid: r.xid }));
  const counter = (s: Series) => counterValue(pool, s.key);

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: env.pgUrl(), max: 12, pipeline });
    await runMigrations(pool, sequencerMigrations);
    // Both modes share the file's database (series and tenants are fresh per case).
    await pool.query(`CREATE TABLE IF NOT EXISTS wdocs (tenant text NOT NULL, series text NOT NULL, period text NOT NULL,
      number bigint NOT NULL, label text NOT NULL, xid bigint NOT NULL DEFAULT txid_current(),
      PRIMARY KEY (tenant, series, period, number));
      DROP TRIGGER IF EXISTS wdocs_refuse ON wdocs;
      CREATE OR REPLACE FUNCTION wdocs_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.label = 'refuse-at-commit' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER wdocs_refuse AFTER INSERT ON wdocs DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION wdocs_refuse();`);
  });
  afterAll(() => pool.end());

  it('plain mode, a write that hands back its statement unawaited: on a pipelined pool COMMIT goes out behind it; failures consume nothing', async () => {
    const log: string[] = [];
    // A pool whose clients log each statement handed to the driver and each reply.
    const texts: string[] = [];
    const traced = {
      query: pool.query.bind(pool),
      connect: async () => {
        const c = await pool.connect();
        return new Proxy(c, {
          get(target, prop) {
            if (prop !== 'query') {
              const v = Reflect.get(target, prop, target) as unknown;
              return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
            }
            return (text: unknown, values?: unknown[]) => {
              const label = String(typeof text === 'string' ? text : (text as { text: string }).text).split(
                /[ ;]/,
              )[0];
              log.push(`send ${label}`);
              texts.push(String(typeof text === 'string' ? text : (text as { text: string }).text));
              return target.query(text as string, values).finally(() => log.push(`reply ${label}`));
            };
          },
        });
      },
    } as unknown as pg.Pool;
    const seq = createPostgresSequencer({ pool: traced });
    const s = series({ format: 'Q-{n}' });
    const handBack = (label: string) => (n: PostgresWriteContext) => insert(n, label);
    await seq.withNumber(s, {}, handBack('a')); // creates the counter row (an upsert)
    log.length = 0;
    await seq.withNumber(s, {}, handBack('a2'));
    const sends = log.filter((l) => l.startsWith('send'));
    // Pipelined, a probe goes out in the same message as COMMIT, before it: it proves COMMIT ends the
    // transaction BEGIN opened (and if the probe fails, the server skips the COMMIT behind it).
    expect(sends).toEqual(
      pipeline
        ? ['send BEGIN', 'send UPDATE', 'send INSERT', 'send SELECT']
        : ['send BEGIN', 'send UPDATE', 'send INSERT', 'send COMMIT'],
    );
    if (pipeline) expect(texts.at(-1)).toMatch(/^SELECT .*; COMMIT$/);
    // Pipelined, COMMIT is written before the INSERT's reply; otherwise after it.
    expect(log.indexOf(pipeline ? 'send SELECT' : 'send COMMIT') < log.indexOf('reply INSERT')).toBe(
      pipeline,
    );
    // The statement fails (duplicate number: a row planted at 2): its own error, nothing consumed.
    await pool.query(
      "INSERT INTO wdocs (tenant, series, period, number, label) VALUES ($1, $2, '', 3, 'planted')",
      [currentTenant(), s.key],
    );
    expect(await outcome(seq.withNumber(s, {}, handBack('b')))).toEqual({ code: '23505' });
    expect(await counter(s)).toBe('2');
    // Refused at COMMIT by a deferred trigger: SEQUENCER_COMMIT_FAILED, nothing consumed.
    await pool.query("DELETE FROM wdocs WHERE label = 'planted'");
    expect(await outcome(seq.withNumber(s, {}, handBack('refuse-at-commit')))).toEqual({
      code: 'SEQUENCER_COMMIT_FAILED',
    });
    expect(await counter(s)).toBe('2');
    // A statement issued after handing back the last one (from its continuation): pipelined, COMMIT is
    // already on its way and the statement is refused; awaiting each reply, the sequencer waits for the
    // write's promise, the continuation runs first, and its statement is part of the transaction.
    let late: Promise<unknown> | undefined;
    await seq.withNumber(s, {}, (n) => {
      const p = insert(n, 'c');
      void p.then(() => {
        late = n.tx.query(
          "INSERT INTO wdocs (tenant, series, period, number, label) VALUES ($1, $2, '', 99, 'late')",
          [n.tenant, n.series],
        );
        late.catch(() => undefined);
      });
      return p;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(await outcome(late as Promise<unknown>)).toEqual(
      pipeline ? { code: 'SEQUENCER_STORE_FAILED' } : { ok: expect.anything() },
    );
    expect((await docs(s)).map((d) => d.label)).toEqual(
      pipeline ? ['a', 'a2', 'c'] : ['a', 'a2', 'c', 'late'],
    );
    await pool.query("DELETE FROM wdocs WHERE label = 'late'");
  });

  it('socket writes per allocation: pipelined, BEGIN leaves with the locking statement and the handed-back INSERT with the probe + COMMIT (two writes); awaiting each reply, one per statement', async () => {
    const one = new pg.Pool({ connectionString: env.pgUrl(), max: 1, pipeline });
    try {
      const seq = createPostgresSequencer({ pool: one });
      const s = series();
      await seq.withNumber(s, {}, (n) => insert(n, 'w0')); // creates the counter row
      let log = recordSocketWrites();
      try {
        expect(await seq.withNumber(s, {}, (n) => insert(n, 'w1').then(() => n.number))).toBe(2);
      } finally {
        log.restore();
      }
      // Pipelined: [BEGIN + UPDATE], [INSERT], [COMMIT] (the write awaited its INSERT: COMMIT waits).
      expect(log.writes).toHaveLength(pipeline ? 3 : 4);
      log = recordSocketWrites();
      try {
        await seq.withNumber(s, {}, (n) => insert(n, 'w2'));
      } finally {
        log.restore();
      }
      expect(log.writes).toHaveLength(pipeline ? 2 : 4);
      expect((await docs(s)).map((d) => [d.n, d.label])).toEqual([
        [1, 'w0'],
        [2, 'w1'],
        [3, 'w2'],
      ]);
    } finally {
      await one.end();
    }
  });

  it('a write that ends the transaction itself (ROLLBACK/COMMIT, awaited, handed back or left running) is refused, and its number is not handed out twice', async () => {
    const plain = createPostgresSequencer({ pool });
    const combining = createPostgresSequencer({ pool, combine: { maxGroupSize: 4, maxWaitMs: 5 } });
    type Ender = (n: PostgresWriteContext) => Promise<unknown>;
    const enders: Record<string, Ender> = {
      handedBack: (n) => {
        void insert(n, 'ended');
        return n.tx.query('ROLLBACK');
      },
      awaited: async (n) => {
        await insert(n, 'ended');
        await n.tx.query('ROLLBACK');
        return n.number;
      },
      leftRunning: async (n) => {
        await insert(n, 'ended');
        n.tx.query('ROLLBACK').catch(() => undefined);
        return n.number;
      },
    };
    for (const seq of [plain, combining]) {
      for (const [name, ender] of Object.entries(enders)) {
        const s = series();
        const r = await outcome(seq.withNumber(s, {}, ender));
        expect({ name, r }).toEqual({
          name,
          r: { code: expect.stringMatching(/^SEQUENCER_(COMMIT|STORE)_FAILED$/) },
        });
        expect(await seq.withNumber(s, {}, insertAndNumber)).toBe(1);
        expect((await docs(s)).map((d) => [d.n, d.label])).toEqual([[1, 'x']]);
      }
    }
    // Combined with others (savepoints): the group fails as a whole, nothing is consumed.
    const grouped = createPostgresSequencer({ pool, combine: { maxGroupSize: 8, maxWaitMs: 30 } });
    for (const [name, ender] of Object.entries(enders)) {
      const s = series();
      const rs = await Promise.all([
        outcome(grouped.withNumber(s, {}, insertAndNumber)),
        outcome(grouped.withNumber(s, {}, ender)),
        outcome(grouped.withNumber(s, {}, insertAndNumber)),
      ]);
      expect({ name, rs }).toEqual({
        name,
        rs: [0, 1, 2].map(() => ({ code: expect.stringMatching(/^SEQUENCER_(COMMIT|STORE)_FAILED$/) })),
      });
      expect(await grouped.withNumber(s, {}, insertAndNumber)).toBe(1);
      expect((await docs(s)).map((d) => [d.n, d.label])).toEqual([[1, 'x']]);
    }
  });

  it("a tx kept past its request refuses statements (SEQUENCER_TX_ENDED): they never reach the connection's next holder", async () => {
    const plain = createPostgresSequencer({ pool });
    const combining = createPostgresSequencer({ pool, combine: { maxGroupSize: 4, maxWaitMs: 5 } });
    for (const seq of [plain, combining]) {
      const s = series();
      let kept: PostgresWriteContext | undefined;
      expect(
        await seq.withNumber(s, {}, async (n) => {
          kept = n;
          return insertAndNumber(n);
        }),
      ).toBe(1);
      // After a failed request too (its transaction rolled back).
      let keptFailed: PostgresWriteContext | undefined;
      expect(
        await outcome(
          seq.withNumber(s, {}, async (n) => {
            keptFailed = n;
            throw new Error('mine');
          }),
        ),
      ).toEqual({ code: 'mine' });
      for (const k of [kept, keptFailed] as PostgresWriteContext[])
        expect(await outcome(insert({ ...k, number: 50 + k.number }, 'leaked'))).toEqual({
          code: 'SEQUENCER_TX_ENDED',
        });
      expect((await docs(s)).map((d) => d.label)).toEqual(['x']);
    }
  });

  it('plain mode: the write runs in the sequencer transaction; a failed write consumes nothing', async () => {
    const seq = createPostgresSequencer({ pool });
    const s = series({ format: 'INV-{n:04}' });
    const a = await seq.withNumber(s, {}, async (n) => {
      await insert(n);
      expect(n.tx.getTransactionStatus()).toBe('T');
      return n.formatted;
    });
    expect(a).toBe('INV-0001');
    expect(await outcome(seq.withNumber(s, {}, async () => Promise.reject(new Error('mine'))))).toEqual({
      code: 'mine',
    });
    const b = await outcome(
      seq.withNumber(s, {}, async (n) => {
        await insert(n);
        await n.tx.query('SELECT 1 / 0');
      }),
    );
    expect(b).toEqual({ code: '22012' }); // the write's own error, unchanged
    expect(await seq.withNumber(s, {}, insertAndNumber)).toBe(2);
    expect((await docs(s)).map((d) => d.n)).toEqual([1, 2]);
    expect(await counter(s)).toBe('2');
  });

  it('combining: concurrent requests share transactions, failures close up, callers learn their own outcome', async () => {
    const seq = createPostgresSequencer({ pool, combine: { maxGroupSize: 16, maxWaitMs: 20 } });
    const s = series();
    const plan = Array.from({ length: 40 }, (_, i) => (i % 5 === 2 ? 'throw' : i % 7 === 3 ? 'sql' : 'ok'));
    const results = await Promise.all(
      plan.map((p, i) =>
        outcome(
          seq.withNumber(s, {}, async (n) => {
            await insert(n, `r${i}`);
            if (p === 'throw') throw new Error(`fail ${i}`);
            if (p === 'sql') await n.tx.query('SELECT 1 / 0');
            return n.number;
          }),
        ),
      ),
    );
    const okCount = plan.filter((p) => p === 'ok').length;
    // Successes got 1…k in the order they asked; failures got their own error.
    expect(results.filter((r) => 'ok' in r).map((r) => (r as { ok: number }).ok)).toEqual(
      Array.from({ length: okCount }, (_, i) => i + 1),
    );
    for (const [i, p] of plan.entries())
      expect(results[i]).toEqual(
        p === 'ok' ? { ok: expect.any(Number) } : { code: p === 'sql' ? '22012' : `fail ${i}` },
      );
    const stored = await docs(s);
    expect(stored.map((d) => d.n)).toEqual(Array.from({ length: okCount }, (_, i) => i + 1));
    expect(stored.map((d) => d.label)).toEqual(plan.flatMap((p, i) => (p === 'ok' ? [`r${i}`] : [])));
    expect(await counter(s)).toBe(String(okCount));
    const txs = new Set(stored.map((d) => d.xid)).size;
    expect(txs).toBeLessThan(okCount / 2); // combined
  });

  it('combining: a caller learns "committed" only after COMMIT; a COMMIT that fails fails the whole group', async () => {
    const seq = createPostgresSequencer({ pool, combine: { maxGroupSize: 8, maxWaitMs: 50 } });
    const s = series();
    const events: string[] = [];
    const results = await Promise.all(
      ['a', 'refuse-at-commit', 'c'].map((label) =>
        outcome(
          seq.withNumber(s, {}, async (n) => {
            await insert(n, label);
            events.push(`wrote ${label}`);
            return label;
          }),
        ).then((r) => {
          events.push(`settled ${label}`);
          return r;
        }),
      ),
    );
    // All three wrote before any was settled: nobody was told before the shared COMMIT.
    expect(events.slice(0, 3)).toEqual(['wrote a', 'wrote refuse-at-commit', 'wrote c']);
    expect(results).toEqual([
      { code: 'SEQUENCER_COMMIT_FAILED' },
      { code: 'SEQUENCER_COMMIT_FAILED' },
      { code: 'SEQUENCER_COMMIT_FAILED' },
    ]);
    expect(await docs(s)).toEqual([]);
    expect(await counter(s)).toBeUndefined(); // nothing consumed: not even the counter row was created
    expect(await seq.withNumber(s, {}, insertAndNumber)).toBe(1);
  });

  it('combining: a connection killed in the middle of a group fails every caller, and nothing is written', async () => {
    const seq = createPostgresSequencer({ pool, combine: { maxGroupSize: 8, maxWaitMs: 50 } });
    const s = series();
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        outcome(
          seq.withNumber(s, {}, async (n) => {
            await insert(n, `k${i}`);
            if (i === 2) {
              const { rows } = await n.tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
              await pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
              await n.tx.query('SELECT 1').catch(() => undefined);
            }
            return i;
          }),
        ),
      ),
    );
    expect(results.map((r) => ('code' in r ? r.code : 'ok'))).toEqual([
      'SEQUENCER_COMMIT_FAILED',
      'SEQUENCER_COMMIT_FAILED',
      'SEQUENCER_COMMIT_FAILED',
      'SEQUENCER_COMMIT_FAILED',
    ]);
    expect(await docs(s)).toEqual([]);
    expect(await seq.withNumber(s, {}, insertAndNumber)).toBe(1);
  });

  it('combining: a write that swallows an SQL error fails alone; chronology is checked per request', async () => {
    const seq = createPostgresSequencer({ pool, combine: { maxGroupSize: 8, maxWaitMs: 50 } });
    const s = series({ chronology: true });
    const dates = ['2026-03-01', '2026-03-05', '2026-03-02', '2026-03-06'];
    const results = await Promise.all(
      dates.map((issueDate, i) =>
        outcome(
          seq.withNumber(s, { issueDate }, async (n) => {
            await insert(n, issueDate);
            if (i === 3) await n.tx.query('SELECT 1 / 0').catch(() => undefined); // swallowed
            return n.number;
          }),
        ),
      ),
    );
    expect(results).toEqual([
      { ok: 1 },
      { ok: 2 },
      { code: 'SEQUENCER_CHRONOLOGY_VIOLATION' },
      { code: 'SEQUENCER_STORE_FAILED' },
    ]);
    expect((await docs(s)).map((d) => d.label)).toEqual(['2026-03-01', '2026-03-05']);
  });

  it('combining: a write that swallows an SQL error in the middle of a group fails alone, and the numbers after it close up', async () => {
    const seq = createPostgresSequencer({ pool, combine: { maxGroupSize: 8, maxWaitMs: 50 } });
    const s = series();
    const plan = ['ok', 'swallow', 'ok', 'swallow', 'swallow', 'ok', 'throw', 'ok'];
    const results = await Promise.all(
      plan.map((p, i) =>
        outcome(
          seq.withNumber(s, {}, async (n) => {
            await insert(n, `w${i}`);
            if (p === 'swallow') await n.tx.query('SELECT 1 / 0').catch(() => undefined);
            if (p === 'throw') throw new Error(`fail ${i}`);
            return n.number;
          }),
        ),
      ),
    );
    expect(results).toEqual([
      { ok: 1 },
      { code: 'SEQUENCER_STORE_FAILED' },
      { ok: 2 },
      { code: 'SEQUENCER_STORE_FAILED' },
      { code: 'SEQUENCER_STORE_FAILED' },
      { ok: 3 },
      { code: 'fail 6' },
      { ok: 4 },
    ]);
    const stored = await docs(s);
    expect(stored.map((d) => [d.n, d.label])).toEqual([
      [1, 'w0'],
      [2, 'w2'],
      [3, 'w5'],
      [4, 'w7'],
    ]);
    expect(new Set(stored.map((d) => d.xid)).size).toBeLessThan(4); // combined
    expect(await counter(s)).toBe('4');
  });

  it('combining: a group waits for the counter row another transaction holds, up to lockTimeoutMs', async () => {
    const seq = createPostgresSequencer({ pool, lockTimeoutMs: 200, combine: { maxGroupSize: 8 } });
    const s = series();
    await seq.withNumber(s, {}, async (n) => void (await insert(n)));
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        'SELECT 1 FROM tenantry_sequencer_counters WHERE tenant = $1 AND series = $2 FOR UPDATE',
        [currentTenant(), s.key],
      );
      const results = await Promise.all([0, 1, 2].map(() => outcome(seq.withNumber(s, {}, insertAndNumber))));
      expect(results).toEqual([
        { code: 'SEQUENCER_LOCK_TIMEOUT' },
        { code: 'SEQUENCER_LOCK_TIMEOUT' },
        { code: 'SEQUENCER_LOCK_TIMEOUT' },
      ]);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await counter(s)).toBe('1');
  });

  /** A pool whose clients lose COMMIT's reply: `mode` says what really happened at the server. */
  const lossyPool = (mode: 'committed' | 'rolled-back', askable = true): pg.Pool =>
    ({
      query: (text: string, values?: unknown[]) =>
        askable ? pool.query(text, values) : Promise.reject(new Error('Connection terminated unexpectedly')),
      connect: async () => {
        const c = await pool.connect();
        return new Proxy(c, {
          get(target, prop, receiver) {
            if (prop !== 'query') return Reflect.get(target, prop, receiver);
            return async (text: unknown, values?: unknown[]) => {
              if (text === 'COMMIT') {
                await target.query(mode === 'committed' ? 'COMMIT' : 'ROLLBACK');
                throw Object.assign(new Error('Connection terminated unexpectedly'), {});
              }
              return target.query(text as string, values);
            };
          },
        });
      },
    }) as unknown as pg.Pool;

  it('a lost COMMIT reply: the outcome is read from the server, and each caller is told the truth', async () => {
    for (const [mode, askable, expected] of [
      ['committed', true, 'ok'],
      ['rolled-back', true, 'SEQUENCER_COMMIT_FAILED'],
      ['committed', false, 'SEQUENCER_COMMIT_UNKNOWN'],
    ] as const) {
      const seq = createPostgresSequencer({
        pool: lossyPool(mode, askable),
        combine: { maxGroupSize: 8, maxWaitMs: 20 },
      });
      const s = series();
      const results = await Promise.all([0, 1, 2].map(() => outcome(seq.withNumber(s, {}, insertAndNumber))));
      expect(results.map((r) => ('ok' in r ? 'ok' : r.code))).toEqual([expected, expected, expected]);
      expect((await docs(s)).map((d) => d.n)).toEqual(mode === 'committed' ? [1, 2, 3] : []);
    }
  }, 30_000);

  it('maxGroupSize 1 (the minimum) is the plain mode: one transaction per request', async () => {
    const seq = createPostgresSequencer({ pool, combine: { maxGroupSize: 1, maxWaitMs: 0 } });
    const s = series();
    await Promise.all(Array.from({ length: 8 }, () => seq.withNumber(s, {}, (n) => insert(n))));
    const stored = await docs(s);
    expect(stored.map((d) => d.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(stored.map((d) => d.xid)).size).toBe(8);
  });

  vitestIt(
    'each write runs in its own tenant context; tenants never share a group or a counter (T1, T5, S5)',
    async () => {
      const seq = createPostgresSequencer({ pool, combine: { maxGroupSize: 16, maxWaitMs: 20 } });
      const s = series();
      const tenants = [freshTenant(), freshTenant()];
      const seen: string[] = [];
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => {
          const t = tenants[i % 2] as string;
          return asTenant(t, () =>
            seq.withNumber(s, {}, async (n) => {
              seen.push(`${requireTenantId()}=${n.tenant}`);
              await insert(n);
              return `${n.tenant}#${n.number}`;
            }),
          );
        }),
      );
      for (const x of seen) expect(x.split('=')[0]).toBe(x.split('=')[1]);
      for (const t of tenants)
        expect(results.filter((r) => r.startsWith(`${t}#`)).map((r) => Number(r.split('#')[1]))).toEqual([
          1, 2, 3, 4, 5, 6,
        ]);
      await expect(seq.withNumber(s, {}, async () => 1)).rejects.toMatchObject({
        code: 'TENANT_CONTEXT_MISSING',
      });
    },
  );

  vitestIt('refuses bad options before anything is sent', async () => {
    const s = series();
    expect(() => createPostgresSequencer({ pool, combine: { maxGroupSize: 0 } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => createPostgresSequencer({ pool: {} as pg.Pool })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    await asTenant(freshTenant(), async () => {
      await expect(createPostgresSequencer().withNumber(s, {}, async () => 1)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(
        createPostgresSequencer({ pool }).withNumber(s, {}, 'nope' as unknown as () => Promise<number>),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });
});
