// A lock backend that lost its state (a Redis failover losing acknowledged writes, a FLUSHALL) hands out
// fences below the one the counter store has seen. The store is the truth: the holder that does hold
// the lock re-seeds the lock's fence above the store's in one step and proceeds; S1–S5 hold, and a
// stale holder stays fenced off.
import { runMigrations } from '@tenantry/core/postgres';
import { hasBackend, skipLabel } from '@tenantry/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { type AllocatedNumber, type CounterKey, createLockedSequencer, defineSeries } from '../src/index.js';
import { MemoryCounterStore, MemoryLockBackend } from '../src/memory.js';
import { PostgresCounterStore, sequencerMigrations } from '../src/postgres.js';
import { RedisSequencerBackend } from '../src/redis.js';
import { currentTenant, freshSeriesKey, tenantIt as it, useBackends } from './helpers.js';

const env = useBackends();
const ready = hasBackend('postgres') && hasBackend('redis');
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

describe.skipIf(!ready)(
  `Redis lock that lost its data, PostgreSQL store${skipLabel('postgres')}${skipLabel('redis')}`,
  () => {
    let pool: pg.Pool;
    let redis: Redis;
    let lock: RedisSequencerBackend;
    let store: PostgresCounterStore;
    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: env.pgUrl(), max: 4 });
      pool.on('error', () => undefined);
      await runMigrations(pool, sequencerMigrations);
      await pool.query(`CREATE TABLE docs (tenant text, series text, period text, number bigint,
      UNIQUE (tenant, series, period, number))`);
      redis = new Redis(env.redisUrl());
      lock = new RedisSequencerBackend({ redis, prefix: env.redisPrefix() });
      store = new PostgresCounterStore({ pool });
    });
    afterAll(async () => {
      redis.disconnect();
      await pool.end();
    });
    const insert = async (n: AllocatedNumber) => {
      await pool.query('INSERT INTO docs VALUES ($1, $2, $3, $4)', [n.tenant, n.series, n.period, n.number]);
      return n.number;
    };
    const highest = async (k: CounterKey) => {
      const { rows } = await pool.query<{ m: string | null }>(
        'SELECT max(number) AS m FROM docs WHERE tenant = $1 AND series = $2 AND period = $3',
        [k.tenant, k.series, k.period],
      );
      return rows[0]?.m == null ? null : Number(rows[0].m);
    };
    const make = () => createLockedSequencer({ lock, store, highestCommitted: highest });
    const wipeRedis = async (key: CounterKey) => {
      const k = lock.keys(key);
      await redis.del(k.lock, k.mark, k.voids);
    };

    it('after every Redis key of the series is lost, the next allocation succeeds at once, gapless', async () => {
      const seq = make();
      const s = defineSeries({ key: freshSeriesKey() });
      const key: CounterKey = { tenant: currentTenant(), series: s.key, period: '', start: 1 };
      for (let i = 0; i < 10; i++) await seq.withNumber(s, {}, insert);
      await wipeRedis(key);
      // Before the fix: SEQUENCER_FENCED nine times, until Redis's fence counter caught up with the store's.
      expect(await seq.withNumber(s, {}, insert)).toBe(11);
      for (let i = 0; i < 4; i++) await seq.withNumber(s, {}, insert);
      const { rows } = await pool.query<{ n: string }>(
        'SELECT number AS n FROM docs WHERE tenant = $1 AND series = $2 ORDER BY number',
        [key.tenant, key.series],
      );
      expect(rows.map((r) => Number(r.n))).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expect((await store.peek(key)).mark).toBe(15);
    });

    it('re-seeds in one step however far behind the lock is (a store that saw fence 100,000)', async () => {
      const seq = make();
      const s = defineSeries({ key: freshSeriesKey() });
      const key: CounterKey = { tenant: currentTenant(), series: s.key, period: '', start: 1 };
      await seq.withNumber(s, {}, insert);
      await store.read(key, 100_000); // as after 100,000 past allocations
      await wipeRedis(key);
      expect(await seq.withNumber(s, {}, async (n, holder) => [await insert(n), holder.fence])).toEqual([
        2, 100_001,
      ]);
      expect(await seq.lastCommitted(s)).toBe(2);
    });

    it('a stale holder cannot re-seed, and its fence stays refused', async () => {
      const s = defineSeries({ key: freshSeriesKey() });
      const key: CounterKey = { tenant: currentTenant(), series: s.key, period: '', start: 1 };
      const seq = make();
      for (let i = 0; i < 3; i++) await seq.withNumber(s, {}, insert);
      const stale = await lock.acquire(key, { ttlMs: 100, waitMs: 1_000 });
      await store.read(key, stale.fence);
      await new Promise((r) => setTimeout(r, 200)); // its lease expires
      await wipeRedis(key);
      expect(await seq.withNumber(s, {}, insert)).toBe(4); // a new holder re-seeds and proceeds
      expect(await stale.reseed?.(1_000_000)).toBeNull();
      expect(await codeOf(store.advance(key, { from: 4, to: 5, fence: stale.fence }))).toBe(
        'SEQUENCER_FENCED',
      );
      expect((await store.peek(key)).mark).toBe(4);
    });
  },
);

describe('memory lock whose fences went backwards (a restarted process, a clock set back)', () => {
  it('re-seeds above the store and proceeds; voids work after it too', async () => {
    const store = new MemoryCounterStore();
    let now = Date.now();
    const lock = new MemoryLockBackend({ now: () => now });
    const docs: number[] = [];
    const seq = createLockedSequencer({ lock, store, highestCommitted: async () => docs.at(-1) ?? null });
    const s = defineSeries({ key: freshSeriesKey() });
    await seq.withNumber(s, {}, async (n) => void docs.push(n.number));
    now -= 3_600_000; // fences come from the clock floor: an hour back, they fall below what the store saw
    const restarted = createLockedSequencer({
      lock: new MemoryLockBackend({ now: () => now }),
      store,
      highestCommitted: async () => docs.at(-1) ?? null,
    });
    expect(
      await restarted.withNumber(s, {}, async (n) => {
        docs.push(n.number);
        return n.number;
      }),
    ).toBe(2);
    expect((await restarted.void(s, 2, { reason: 'typo' })).number).toBe(2);
    expect(docs).toEqual([1, 2]);
  });
});
