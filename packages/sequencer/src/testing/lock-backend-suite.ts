import { type SuiteApi, settledCode } from '@tenantry/core/testing';
import type { LockBackend } from '../lock-backend.js';
import type { CounterKey } from '../series.js';

/**
 * What {@link lockBackendConformance} needs from a backend case.
 *
 * Harness contract: the suite calls `harness()` exactly once per test, at its start, and uses only that
 * call's `lock` and `newKey`. A fresh backend per call or one shared backend both work: `newKey` must
 * never repeat, so tests never contend with each other. The suite releases every lease it takes but
 * never closes the backend.
 */
export interface LockBackendHarness {
  lock: LockBackend;
  /** A counter key nobody used yet. */
  newKey: () => CounterKey;
  /** Whether leases expire after their TTL (false for PostgreSQL advisory locks, bound to a connection). */
  expires: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const code = settledCode;

/**
 * The contract every {@link LockBackend} must meet: mutual exclusion, bounded waits with a typed
 * timeout, strictly increasing fencing tokens, independent keys, and (for TTL backends) expiry after
 * which the stale holder can neither renew nor release the new holder's lease; for connection-bound
 * backends (`expires: false`), a lease that outlives its TTL still excludes others. `api` is core's
 * runner-neutral `SuiteApi`; this module imports no test runner.
 * @example
 * import { describe, expect, it } from 'vitest';
 * lockBackendConformance(() => ({ lock: new MemoryLockBackend(), newKey, expires: true }), { describe, it, expect });
 */
export function lockBackendConformance(harness: () => LockBackendHarness, api: SuiteApi): void {
  const { describe, it, expect } = api;
  describe(`LockBackend conformance`, () => {
    it('hands out strictly increasing fencing tokens', async () => {
      const { lock, newKey } = harness();
      const key = newKey();
      const fences: number[] = [];
      for (let i = 0; i < 4; i++) {
        const lease = await lock.acquire(key, { ttlMs: 5_000, waitMs: 1_000 });
        fences.push(lease.fence);
        await lease.release();
      }
      for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1] as number);
    });

    it('excludes a second holder and times out with SEQUENCER_LOCK_TIMEOUT after the bounded wait', async () => {
      const { lock, newKey } = harness();
      const key = newKey();
      const lease = await lock.acquire(key, { ttlMs: 5_000, waitMs: 1_000 });
      const started = Date.now();
      expect(await code(lock.acquire(key, { ttlMs: 5_000, waitMs: 150 }))).toBe('SEQUENCER_LOCK_TIMEOUT');
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(100);
      expect(waited).toBeLessThan(3_000);
      await lease.release();
    });

    it('lets a waiter in once the holder releases, within its wait', async () => {
      const { lock, newKey } = harness();
      const key = newKey();
      const first = await lock.acquire(key, { ttlMs: 5_000, waitMs: 1_000 });
      const waiter = lock.acquire(key, { ttlMs: 5_000, waitMs: 3_000 });
      await sleep(80);
      await first.release();
      const second = await waiter;
      expect(second.fence).toBeGreaterThan(first.fence);
      await second.release();
    });

    it('never lets two holders of one key overlap under contention', async () => {
      const { lock, newKey } = harness();
      const key = newKey();
      let inside = 0;
      let maxInside = 0;
      let total = 0;
      await Promise.all(
        Array.from({ length: 5 }, async () => {
          for (let i = 0; i < 4; i++) {
            const lease = await lock.acquire(key, { ttlMs: 5_000, waitMs: 10_000 });
            inside++;
            maxInside = Math.max(maxInside, inside);
            await sleep(2);
            total++;
            inside--;
            await lease.release();
          }
        }),
      );
      expect(total).toBe(20);
      expect(maxInside).toBe(1);
    });

    it('does not block other keys (tenants, series, periods)', async () => {
      const { lock, newKey } = harness();
      const key = newKey();
      const held = await lock.acquire(key, { ttlMs: 5_000, waitMs: 1_000 });
      for (const other of [
        { ...key, tenant: `${key.tenant}x` },
        { ...key, series: `${key.series}x` },
        { ...key, period: '2027' },
      ]) {
        const lease = await lock.acquire(other, { ttlMs: 5_000, waitMs: 200 });
        await lease.release();
      }
      await held.release();
    });

    it('renews a held lease (true) and keeps others out past the original TTL', async () => {
      const { lock, newKey, expires } = harness();
      const key = newKey();
      const lease = await lock.acquire(key, { ttlMs: 300, waitMs: 1_000 });
      await sleep(150);
      expect(await lease.renew(600)).toBe(true);
      await sleep(250);
      if (expires)
        expect(await code(lock.acquire(key, { ttlMs: 300, waitMs: 0 }))).toBe('SEQUENCER_LOCK_TIMEOUT');
      await lease.release();
    });

    it('expires a stalled holder (TTL backends: a newer holder gets a higher fence, the stale one cannot renew or release it; connection-bound backends: the lease still holds)', async () => {
      const { lock, newKey, expires } = harness();
      const key = newKey();
      if (!expires) {
        const held = await lock.acquire(key, { ttlMs: 100, waitMs: 1_000 });
        await sleep(250);
        expect(await code(lock.acquire(key, { ttlMs: 5_000, waitMs: 50 }))).toBe('SEQUENCER_LOCK_TIMEOUT');
        expect(await held.renew(5_000)).toBe(true);
        await held.release();
        return;
      }
      const stale = await lock.acquire(key, { ttlMs: 100, waitMs: 1_000 });
      await sleep(250);
      const fresh = await lock.acquire(key, { ttlMs: 5_000, waitMs: 1_000 });
      expect(fresh.fence).toBeGreaterThan(stale.fence);
      expect(await stale.renew(5_000)).toBe(false);
      await stale.release();
      expect(await code(lock.acquire(key, { ttlMs: 5_000, waitMs: 50 }))).toBe('SEQUENCER_LOCK_TIMEOUT');
      await fresh.release();
    });
  });
}
