import { runMigrations } from '@tenantry/core/postgres';
import { type BackendCase, runConformance } from '@tenantry/testkit';
import { Redis } from 'ioredis';
import type { PgPoolLike } from '@tenantry/core';
import { PG_CLIENT_KINDS, type PgClientKindCase } from '@tenantry/testkit/pg-clients';
import { expect } from 'vitest';
import {
  type AllocatedNumber,
  type CounterKey,
  type CounterStore,
  createLockedSequencer,
  defineSeries,
  findGapsAndDuplicates,
  isGapless,
  type LockBackend,
  type LockedSequencer,
  type Series,
} from '../src/index.js';
import { MemoryCounterStore, MemoryLockBackend } from '../src/memory.js';
import { PostgresCounterStore, PostgresLockBackend, sequencerMigrations } from '../src/postgres.js';
import { RedisSequencerBackend } from '../src/redis.js';
import { currentTenant, freshSeriesKey, tenantIt as it, useBackends } from './helpers.js';

const env = useBackends();

/** A document store with a unique (tenant, series, period, number) constraint. */
interface Docs {
  insert(n: AllocatedNumber): Promise<void>;
  highest(k: CounterKey): Promise<number | null>;
  numbers(s: Series, period?: string): Promise<number[]>;
}

function memoryDocs(): Docs {
  const rows = new Set<string>();
  const id = (t: string, s: string, p: string, n: number) => `${t}|${s}|${p}|${n}`;
  return {
    async insert(n) {
      const k = id(n.tenant, n.series, n.period, n.number);
      if (rows.has(k)) throw Object.assign(new Error('duplicate key'), { code: '23505' });
      rows.add(k);
    },
    async highest(k) {
      const ns = [...rows]
        .filter((r) => r.startsWith(`${k.tenant}|${k.series}|${k.period}|`))
        .map((r) => Number(r.split('|')[3]));
      return ns.length ? Math.max(...ns) : null;
    },
    async numbers(s, period = '') {
      return [...rows]
        .filter((r) => r.startsWith(`${currentTenant()}|${s.key}|${period}|`))
        .map((r) => Number(r.split('|')[3]));
    },
  };
}

function pgDocs(pool: PgPoolLike): Docs {
  return {
    async insert(n) {
      await pool.query('INSERT INTO ldocs (tenant, series, period, number) VALUES ($1, $2, $3, $4)', [
        n.tenant,
        n.series,
        n.period,
        n.number,
      ]);
    },
    async highest(k) {
      const { rows } = await pool.query<{ m: string | null }>(
        'SELECT max(number) AS m FROM ldocs WHERE tenant = $1 AND series = $2 AND period = $3',
        [k.tenant, k.series, k.period],
      );
      return rows[0]?.m == null ? null : Number(rows[0].m);
    },
    async numbers(s, period = '') {
      const { rows } = await pool.query<{ number: string }>(
        'SELECT number FROM ldocs WHERE tenant = $1 AND series = $2 AND period = $3',
        [currentTenant(), s.key, period],
      );
      return rows.map((r) => Number(r.number));
    },
  };
}

interface H {
  lock: LockBackend;
  store: CounterStore;
  docs: Docs;
  expires: boolean;
  close: () => Promise<void>;
  make: (ttlMs?: number, renewEveryMs?: number) => LockedSequencer;
}

/** Options every sequencer of a case gets (e.g. kept leases). */
type Extra = { keepLeaseMs?: number; keepLeaseMaxMs?: number };

const build = (
  lock: LockBackend,
  store: CounterStore,
  docs: Docs,
  expires: boolean,
  close: () => Promise<void>,
  extra: Extra = {},
): H => ({
  lock,
  store,
  docs,
  expires,
  close,
  make: (ttlMs = 5_000, renewEveryMs?: number) =>
    createLockedSequencer({
      lock,
      store,
      highestCommitted: (k) => docs.highest(k),
      options: { lockTtlMs: ttlMs, lockWaitMs: 10_000, renewEveryMs, ...extra },
    }),
});

const withPgDocs = async (
  kind: PgClientKindCase = PG_CLIENT_KINDS[0] as PgClientKindCase,
): Promise<{ pool: PgPoolLike; docs: Docs; close: () => Promise<void> }> => {
  // Idle clients are terminated when the file's database is dropped WITH (FORCE) at the end; the
  // client kinds listen for that expected error, so it does not surface as an uncaught exception.
  const { pool, close } = kind.open(env.pgUrl(), { max: 8 });
  await runMigrations(pool, sequencerMigrations);
  await pool.query(`CREATE TABLE IF NOT EXISTS ldocs (tenant text, series text, period text, number bigint,
    UNIQUE (tenant, series, period, number))`);
  return { pool, docs: pgDocs(pool), close };
};

const cases: BackendCase<H>[] = [
  {
    name: 'memory lock + memory store',
    setup: () => build(new MemoryLockBackend(), new MemoryCounterStore(), memoryDocs(), true, async () => {}),
  },
  {
    name: 'redis lock + redis store (fused), documents in postgres',
    needs: 'redis',
    setup: async () => {
      const { docs, close } = await withPgDocs();
      const redis = new Redis(env.redisUrl());
      const b = new RedisSequencerBackend({ redis, prefix: env.redisPrefix() });
      return build(b, b, docs, true, async () => {
        redis.disconnect();
        await close();
      });
    },
    teardown: (h) => h.close(),
  },
  {
    name: 'redis lock + redis store (fused) keeping leases between allocations, documents in postgres',
    needs: 'redis',
    setup: async () => {
      const { docs, close } = await withPgDocs();
      const redis = new Redis(env.redisUrl());
      const b = new RedisSequencerBackend({ redis, prefix: env.redisPrefix() });
      return build(
        b,
        b,
        docs,
        true,
        async () => {
          redis.disconnect();
          await close();
        },
        { keepLeaseMs: 20, keepLeaseMaxMs: 40 },
      );
    },
    teardown: (h) => h.close(),
  },
  {
    name: 'redis lock + postgres store',
    needs: 'redis',
    setup: async () => {
      const { pool, docs, close } = await withPgDocs();
      const redis = new Redis(env.redisUrl());
      return build(
        new RedisSequencerBackend({ redis, prefix: env.redisPrefix() }),
        new PostgresCounterStore({ pool }),
        docs,
        true,
        async () => {
          redis.disconnect();
          await close();
        },
      );
    },
    teardown: (h) => h.close(),
  },
  // Once per PostgreSQL client kind (node-postgres, Kysely, Drizzle, postgres.js).
  ...PG_CLIENT_KINDS.map(
    (kind): BackendCase<H> => ({
      name: `postgres advisory lock + postgres store (${kind.name})`,
      needs: 'postgres',
      setup: async () => {
        const { pool, docs, close } = await withPgDocs(kind);
        return build(
          new PostgresLockBackend({ pool }),
          new PostgresCounterStore({ pool }),
          docs,
          false,
          close,
        );
      },
      teardown: (h) => h.close(),
    }),
  ),
];

const series = (def: Record<string, unknown> = {}) => defineSeries({ key: freshSeriesKey(), ...def });
/** Insert the document, then return something about its number. */
const insertAnd =
  <T>(docs: Docs, pick: (n: AllocatedNumber) => T) =>
  async (n: AllocatedNumber): Promise<T> => {
    await docs.insert(n);
    return pick(n);
  };
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

runConformance('createLockedSequencer (callback form)', cases, (h) => {
  it('hands out start, start+1 … and a failed write consumes nothing (S4)', async () => {
    const { docs, make } = h();
    const seq = make();
    const s = series({ start: 7, format: 'INV-{n:04}' });
    const a = await seq.withNumber(
      s,
      {},
      insertAnd(docs, (n) => n.formatted),
    );
    expect(await codeOf(seq.withNumber(s, {}, async () => Promise.reject(new Error('boom'))))).toBe(
      'Error: boom',
    );
    const b = await seq.withNumber(
      s,
      {},
      insertAnd(docs, (n) => n.formatted),
    );
    expect([a, b]).toEqual(['INV-0007', 'INV-0008']);
    expect(await seq.lastCommitted(s)).toBe(8);
  });

  it('recovers when a holder committed a document and died before advancing the mark', async () => {
    const { docs, make } = h();
    const seq = make();
    const s = series();
    await seq.withNumber(s, {}, (n) => docs.insert(n));
    // A crashed holder's document: number 2 committed, mark still at 1.
    await docs.insert({
      tenant: currentTenant(),
      series: s.key,
      period: '',
      number: 2,
      formatted: '2',
      issueDate: undefined,
    });
    const third = await seq.withNumber(
      s,
      {},
      insertAnd(docs, (n) => n.number),
    );
    expect(third).toBe(3);
    expect(isGapless(findGapsAndDuplicates(await docs.numbers(s)))).toBe(true);
  });

  it('allocates a batch of consecutive numbers for one write', async () => {
    const { docs, make } = h();
    const seq = make();
    const s = series({ period: 'yearly', format: '{yyyy}/{n}' });
    await seq.withNumber(s, { issueDate: '2026-05-01' }, (n) => docs.insert(n));
    const got = await seq.withNumbers(s, { issueDate: '2026-05-02', count: 3 }, async (ns) => {
      for (const n of ns) await docs.insert(n);
      return ns.map((n) => n.formatted);
    });
    expect(got).toEqual(['2026/2', '2026/3', '2026/4']);
    expect(
      await seq.withNumber(
        s,
        { issueDate: '2027-01-01' },
        insertAnd(docs, (n) => n.formatted),
      ),
    ).toBe('2027/1');
  });

  it('enforces chronology within the series and period', async () => {
    const { docs, make } = h();
    const seq = make();
    const s = series({ chronology: true });
    await seq.withNumber(s, { issueDate: '2026-02-02' }, (n) => docs.insert(n));
    expect(await codeOf(seq.withNumber(s, { issueDate: '2026-02-01' }, (n) => docs.insert(n)))).toBe(
      'SEQUENCER_CHRONOLOGY_VIOLATION',
    );
    expect(
      await seq.withNumber(
        s,
        { issueDate: '2026-02-03' },
        insertAnd(docs, (n) => n.number),
      ),
    ).toBe(2);
  });

  it('records voids without reissuing the number', async () => {
    const { docs, make } = h();
    const seq = make();
    const s = series();
    for (let i = 0; i < 2; i++) await seq.withNumber(s, {}, (n) => docs.insert(n));
    await seq.void(s, 1, { reason: 'duplicate order' });
    expect(await codeOf(seq.void(s, 1, { reason: 'again' }))).toBe('SEQUENCER_ALREADY_VOIDED');
    expect(await codeOf(seq.void(s, 3, { reason: 'x' }))).toBe('SEQUENCER_NUMBER_NOT_ISSUED');
    expect((await seq.voids(s)).map((v) => v.number)).toEqual([1]);
    expect(
      await seq.withNumber(
        s,
        {},
        insertAnd(docs, (n) => n.number),
      ),
    ).toBe(3);
  });

  it('stays gapless with 6 concurrent writers, some failing on purpose', async () => {
    const { docs, make } = h();
    const seq = make();
    const s = series();
    let ok = 0;
    await Promise.all(
      Array.from({ length: 6 }, async (_, w) => {
        for (let i = 0; i < 8; i++) {
          const fail = (w + i) % 4 === 0;
          const r = await codeOf(
            seq.withNumber(s, {}, async (n) => {
              if (fail) throw new Error('aborted on purpose');
              await docs.insert(n);
            }),
          );
          if (r === 'ok') ok++;
        }
      }),
    );
    const report = findGapsAndDuplicates(await docs.numbers(s));
    expect(report.count).toBe(ok);
    expect(isGapless(report)).toBe(true);
  });

  it('aborts holder.signal with SEQUENCER_LOCK_LOST when renewal finds the lease taken, and does not advance', async ({
    skip,
  }) => {
    const { docs, make, expires } = h();
    if (!expires) skip('advisory locks do not expire: renewal never finds the lease taken');
    const s = series();
    // TTL 150 ms, first renewal at 400 ms: the lease expires, the healthy holder takes it, renewal fails.
    const slow = make(150, 400);
    const healthy = make(5_000);
    let reason: unknown;
    const stale = codeOf(
      slow.withNumber(s, {}, async (_n, holder) => {
        reason = await new Promise((resolve) => {
          holder.signal.addEventListener('abort', () => resolve(holder.signal.reason), { once: true });
          setTimeout(() => resolve('not aborted'), 3_000);
        });
        throw holder.signal.reason;
      }),
    );
    await new Promise((r) => setTimeout(r, 250));
    expect(
      await healthy.withNumber(
        s,
        {},
        insertAnd(docs, (n) => n.number),
      ),
    ).toBe(1);
    expect(await stale).toBe('SEQUENCER_LOCK_LOST');
    expect((reason as { code?: string }).code).toBe('SEQUENCER_LOCK_LOST');
    expect(
      await healthy.withNumber(
        s,
        {},
        insertAnd(docs, (n) => n.number),
      ),
    ).toBe(2);
  });

  it('keeps the lease alive while a callback outlasts its TTL (renewal) and hands a live signal', async () => {
    const { docs, make, lock } = h();
    const s = series();
    const seq = make(150, 30);
    const got = await seq.withNumber(s, {}, async (n, holder) => {
      await new Promise((r) => setTimeout(r, 300));
      // Past the 150 ms TTL: only renewal keeps a competitor out until its own bounded wait ends.
      const key = { tenant: currentTenant(), series: s.key, period: '', start: s.start };
      expect(await codeOf(lock.acquire(key, { ttlMs: 1_000, waitMs: 250 }))).toBe('SEQUENCER_LOCK_TIMEOUT');
      expect(holder.signal.aborted).toBe(false);
      await docs.insert(n);
      return n.number;
    });
    expect(got).toBe(1);
    expect(
      await seq.withNumber(
        s,
        {},
        insertAnd(docs, (n) => n.number),
      ),
    ).toBe(2);
  });

  it('fences off a holder that stalled past its TTL: its write is refused, numbering stays gapless', async ({
    skip,
  }) => {
    const { docs, make, expires } = h();
    if (!expires)
      skip('advisory locks do not expire: a stalled holder keeps the lock until its connection dies');
    const s = series();
    // Renewal slower than the TTL: the stalled holder's lease expires while it sleeps.
    const stalled = make(150, 60_000);
    const healthy = make(5_000);
    await healthy.withNumber(s, {}, (n) => docs.insert(n));
    const stale = codeOf(
      stalled.withNumber(s, {}, async (n) => {
        await new Promise((r) => setTimeout(r, 500));
        await docs.insert(n);
      }),
    );
    await new Promise((r) => setTimeout(r, 250));
    for (let i = 0; i < 2; i++) await healthy.withNumber(s, {}, (n) => docs.insert(n));
    expect(await stale).toBe('SEQUENCER_LOCK_LOST');
    const report = findGapsAndDuplicates(await docs.numbers(s));
    expect(report).toMatchObject({ count: 3, last: 3 });
    expect(isGapless(report)).toBe(true);
  });
});
