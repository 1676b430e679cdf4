// Kept leases (keepLeaseMs) on Redis: a back-to-back allocation reuses the lease (one round trip), yet a
// kept lease that was lost is fenced off exactly like a stalled holder, other processes get the series
// once the lease is handed back, and close() hands it back at once.
import { hasBackend } from '@tenantry/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  type AllocatedNumber,
  type CounterKey,
  createLockedSequencer,
  defineSeries,
  findGapsAndDuplicates,
  isGapless,
  type LockedSequencer,
  type Series,
} from '../src/index.js';
import { RedisSequencerBackend } from '../src/redis.js';
import { currentTenant, freshSeriesKey, tenantIt as it, useBackends } from './helpers.js';

const env = useBackends();
const ready = hasBackend('redis');

describe.skipIf(!ready)(`kept leases on Redis${ready ? '' : ' (skipped: no Redis)'}`, () => {
  let redis: Redis;
  let backend: RedisSequencerBackend;
  // The document store: a unique (tenant, series, period, number) set, like a UNIQUE constraint.
  const docs = new Set<string>();
  const id = (t: string, s: string, p: string, n: number) => `${t}|${s}|${p}|${n}`;
  const insert = async (n: AllocatedNumber): Promise<number> => {
    const k = id(n.tenant, n.series, n.period, n.number);
    if (docs.has(k)) throw Object.assign(new Error('duplicate key'), { code: '23505' });
    docs.add(k);
    return n.number;
  };
  const highest = async (k: CounterKey): Promise<number | null> => {
    const ns = [...docs]
      .filter((r) => r.startsWith(`${k.tenant}|${k.series}|${k.period}|`))
      .map((r) => Number(r.split('|')[3]));
    return ns.length ? Math.max(...ns) : null;
  };
  const numbers = (s: Series) =>
    [...docs]
      .filter((r) => r.startsWith(`${currentTenant()}|${s.key}||`))
      .map((r) => Number(r.split('|')[3]));
  const make = (keepLeaseMs: number, keepLeaseMaxMs = 1_000, lockTtlMs = 5_000): LockedSequencer =>
    createLockedSequencer({
      lock: backend,
      store: backend,
      highestCommitted: highest,
      options: { lockTtlMs, lockWaitMs: 5_000, keepLeaseMs, keepLeaseMaxMs },
    });
  const series = () => defineSeries({ key: freshSeriesKey() });
  const keyOf = (s: Series): CounterKey => ({
    tenant: currentTenant(),
    series: s.key,
    period: '',
    start: s.start,
  });
  const fenceAnd = async (seq: LockedSequencer, s: Series) =>
    seq.withNumber(s, {}, async (n, h) => ({ n: await insert(n), fence: h.fence }));
  const codeOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code ?? String(e);
    }
  };

  beforeAll(() => {
    redis = new Redis(env.redisUrl());
    backend = new RedisSequencerBackend({ redis, prefix: env.redisPrefix() });
  });
  afterAll(() => redis.disconnect());

  it('reuses the lease for a back-to-back allocation (same fence) and still advances the mark each time', async () => {
    const seq = make(200);
    const s = series();
    const a = await fenceAnd(seq, s);
    const b = await fenceAnd(seq, s);
    expect([a.n, b.n]).toEqual([1, 2]);
    expect(b.fence).toBe(a.fence);
    // The mark is committed in Redis, not only in this process.
    expect((await backend.peek(keyOf(s))).mark).toBe(2);
    await seq.close();
    // Handed back: another process takes the lock at once, with a higher fence.
    const lease = await backend.acquire(keyOf(s), { ttlMs: 1_000, waitMs: 50 });
    expect(lease.fence).toBeGreaterThan(a.fence);
    await lease.release();
  });

  it('hands a kept lease back after keepLeaseMs idle, so another process gets the next number', async () => {
    const mine = make(30);
    const other = make(0);
    const s = series();
    const first = await fenceAnd(mine, s);
    const t0 = performance.now();
    const next = await fenceAnd(other, s);
    expect(next.n).toBe(2);
    expect(next.fence).toBeGreaterThan(first.fence);
    // It waited for the kept lease, not for the 5 s TTL.
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(isGapless(findGapsAndDuplicates(numbers(s)))).toBe(true);
  });

  it('hands the lease back after keepLeaseMaxMs in all, even under back-to-back load', async () => {
    const seq = make(50, 20);
    const s = series();
    const fences = new Set<number>();
    const until = performance.now() + 150;
    let count = 0;
    while (performance.now() < until) {
      fences.add((await fenceAnd(seq, s)).fence);
      count++;
    }
    expect(fences.size).toBeGreaterThan(1);
    expect(fences.size).toBeLessThan(count);
    await seq.close();
    expect(findGapsAndDuplicates(numbers(s))).toMatchObject({ count, last: count });
  });

  it('fences off a kept lease that was lost: the reused holder is refused, numbering stays gapless', async () => {
    const seq = make(200);
    const other = make(0);
    const s = series();
    const first = await fenceAnd(seq, s);
    const stale = codeOf(
      seq.withNumber(s, {}, async (n, h) => {
        expect(h.fence).toBe(first.fence); // the kept lease
        // The lease is lost while the holder works (as if it stalled past its TTL): another holder
        // takes the series and commits the same number first.
        await redis.del(backend.keys(keyOf(s)).lock);
        expect(await fenceAnd(other, s)).toMatchObject({ n: 2 });
        return insert(n);
      }),
    );
    expect(await stale).toBe('SEQUENCER_LOCK_LOST');
    // The stale holder did not move the mark, and its next allocation takes a fresh lease.
    expect((await backend.peek(keyOf(s))).mark).toBe(2);
    const third = await fenceAnd(seq, s);
    expect(third.n).toBe(3);
    expect(third.fence).toBeGreaterThan(first.fence);
    await seq.close();
    expect(findGapsAndDuplicates(numbers(s))).toMatchObject({ count: 3, last: 3 });
  });

  it('refuses to advance from a kept lease after a newer holder took the series (mark unchanged, newer lock kept)', async () => {
    const seq = make(200);
    const s = series();
    await fenceAnd(seq, s);
    const result = await codeOf(
      seq.withNumber(s, {}, async (n) => {
        // Lost and taken by a newer holder that has not written yet: the document write succeeds
        // (the number is free), but the advance must be refused and the newer holder's lock kept.
        await redis.del(backend.keys(keyOf(s)).lock);
        const newer = await backend.acquire(keyOf(s), { ttlMs: 5_000, waitMs: 100 });
        (globalThis as { newer?: unknown }).newer = newer;
        return insert(n);
      }),
    );
    // The write itself succeeded, so withNumber returns it; the mark stays for recovery to fix.
    expect(result).toBe('ok');
    expect((await backend.peek(keyOf(s))).mark).toBe(1);
    const newer = (globalThis as { newer?: { release(): Promise<void> } }).newer;
    expect(await redis.exists(backend.keys(keyOf(s)).lock)).toBe(1);
    await newer?.release();
    // The next holder recovers number 2 from the document store and hands out 3.
    expect((await fenceAnd(seq, s)).n).toBe(3);
    await seq.close();
    expect(isGapless(findGapsAndDuplicates(numbers(s)))).toBe(true);
  });

  it('does not reuse a kept lease once the local clock says it may have expired', async () => {
    // TTL 300 ms, renewal every 100 ms: a kept lease is reusable only within 300-100-25 = 175 ms.
    const seq = make(1_000, 10_000, 300);
    const s = series();
    const a = await fenceAnd(seq, s);
    await new Promise((r) => setTimeout(r, 400)); // the Redis lock has expired meanwhile
    const b = await fenceAnd(seq, s);
    expect(b.n).toBe(2);
    expect(b.fence).toBeGreaterThan(a.fence);
    await seq.close();
  });
});
