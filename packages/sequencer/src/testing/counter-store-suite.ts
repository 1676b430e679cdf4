import { type SuiteApi, settledCode } from '@tenantry/core/testing';
import type { CounterStore } from '../counter-store.js';
import type { CounterKey } from '../series.js';

/**
 * What {@link counterStoreConformance} needs from a backend case.
 *
 * Harness contract: the suite calls `harness()` exactly once per test, at the start of the test, and
 * uses only the `store` and `newKey` of that call for the whole test. The harness may return a fresh
 * store each time (a new `MemoryCounterStore`, a new pool on a migrated database) or one shared store:
 * every test works on keys from `newKey`, which must never repeat (within and across calls), so tests
 * never see each other's state. The suite never closes the store; close what the harness opened in
 * your runner's `afterAll`/`afterEach`.
 */
export interface CounterStoreHarness {
  store: CounterStore;
  /** A counter key nobody used yet (unique tenant/series), with the given start value. */
  newKey: (start?: number) => CounterKey;
}

const code = settledCode;

/**
 * The contract every {@link CounterStore} must meet: compare-and-set marks, fencing (a lower token is
 * refused once a higher one was seen), recovery that only raises the mark, voids that never move it,
 * isolation of tenants, series and periods (S5). `api` is core's runner-neutral `SuiteApi`
 * (`{ describe, it, expect }` of Vitest or Jest, or `node:test` plus the `expect` package): this module
 * imports no test runner.
 * @example
 * import { describe, expect, it } from 'vitest';
 * counterStoreConformance(() => ({ store: new MemoryCounterStore(), newKey }), { describe, it, expect });
 */
export function counterStoreConformance(harness: () => CounterStoreHarness, api: SuiteApi): void {
  const { describe, it, expect } = api;
  describe(`CounterStore conformance`, () => {
    it('starts empty and reads null before the first number', async () => {
      const { store, newKey } = harness();
      const key = newKey();
      expect(await store.peek(key)).toEqual({ mark: null, lastIssueDate: null });
      expect(await store.read(key, 1)).toEqual({ mark: null, lastIssueDate: null });
    });

    it('advances by compare-and-set and refuses a stale `from` with SEQUENCER_COUNTER_CONFLICT', async () => {
      const { store, newKey } = harness();
      const key = newKey();
      await store.read(key, 1);
      await store.advance(key, { from: null, to: 1, fence: 1 });
      await store.advance(key, { from: 1, to: 4, fence: 1 });
      expect((await store.peek(key)).mark).toBe(4);
      expect(await code(store.advance(key, { from: 1, to: 5, fence: 1 }))).toBe('SEQUENCER_COUNTER_CONFLICT');
      expect(await code(store.advance(key, { from: null, to: 5, fence: 1 }))).toBe(
        'SEQUENCER_COUNTER_CONFLICT',
      );
      expect((await store.peek(key)).mark).toBe(4);
    });

    it('refuses a fence lower than one already seen on read, advance and recover (SEQUENCER_FENCED)', async () => {
      const { store, newKey } = harness();
      const key = newKey();
      await store.read(key, 10);
      await store.advance(key, { from: null, to: 1, fence: 10 });
      // A newer holder registers fence 11; the old holder (10) is now fenced off everywhere.
      await store.read(key, 11);
      expect(await code(store.advance(key, { from: 1, to: 2, fence: 10 }))).toBe('SEQUENCER_FENCED');
      expect(await code(store.read(key, 10))).toBe('SEQUENCER_FENCED');
      expect(await code(store.recover(key, { committed: 9, fence: 10 }))).toBe('SEQUENCER_FENCED');
      expect((await store.peek(key)).mark).toBe(1);
      await store.advance(key, { from: 1, to: 2, fence: 11 });
      expect((await store.peek(key)).mark).toBe(2);
    });

    it('recover raises the mark to the committed high-water mark and never lowers it', async () => {
      const { store, newKey } = harness();
      const key = newKey();
      expect((await store.recover(key, { committed: 7, fence: 1 })).mark).toBe(7);
      expect((await store.recover(key, { committed: 3, fence: 2 })).mark).toBe(7);
      expect((await store.recover(key, { committed: null, fence: 3 })).mark).toBe(7);
      expect((await store.read(key, 4)).mark).toBe(7);
    });

    it('keeps the latest issue date when advancing', async () => {
      const { store, newKey } = harness();
      const key = newKey();
      await store.read(key, 1);
      await store.advance(key, { from: null, to: 1, fence: 1, issueDate: '2026-03-02' });
      await store.advance(key, { from: 1, to: 2, fence: 1, issueDate: '2026-03-01' });
      await store.advance(key, { from: 2, to: 3, fence: 1 });
      expect(await store.peek(key)).toEqual({ mark: 3, lastIssueDate: '2026-03-02' });
    });

    it('records voids of issued numbers only, once, without moving the mark (S4)', async () => {
      const { store, newKey } = harness();
      const key = newKey(100);
      const at = new Date('2026-01-02T03:04:05.000Z');
      expect(await code(store.recordVoid(key, { number: 100, reason: 'x', voidedAt: at }))).toBe(
        'SEQUENCER_NUMBER_NOT_ISSUED',
      );
      await store.read(key, 1);
      await store.advance(key, { from: null, to: 102, fence: 1 });
      await store.recordVoid(key, { number: 102, reason: 'customer cancelled', voidedAt: at });
      await store.recordVoid(key, { number: 100, reason: 'typo', voidedAt: at });
      expect(await code(store.recordVoid(key, { number: 102, reason: 'again', voidedAt: at }))).toBe(
        'SEQUENCER_ALREADY_VOIDED',
      );
      expect(await code(store.recordVoid(key, { number: 103, reason: 'x', voidedAt: at }))).toBe(
        'SEQUENCER_NUMBER_NOT_ISSUED',
      );
      expect(await code(store.recordVoid(key, { number: 99, reason: 'x', voidedAt: at }))).toBe(
        'SEQUENCER_NUMBER_NOT_ISSUED',
      );
      const voids = await store.listVoids(key);
      expect(voids.map((v) => [v.number, v.reason, v.voidedAt.toISOString()])).toEqual([
        [100, 'typo', at.toISOString()],
        [102, 'customer cancelled', at.toISOString()],
      ]);
      expect((await store.peek(key)).mark).toBe(102);
    });

    it('never shares a counter between tenants, series or periods (S5)', async () => {
      const { store, newKey } = harness();
      const a = newKey();
      const variants: CounterKey[] = [
        a,
        { ...a, tenant: `${a.tenant}x` },
        { ...a, series: `${a.series}x` },
        { ...a, period: '2026' },
        { ...a, period: '2026-01' },
      ];
      for (const [i, k] of variants.entries()) {
        await store.read(k, 1);
        await store.advance(k, { from: null, to: i + 1, fence: 1 });
      }
      for (const [i, k] of variants.entries()) expect((await store.peek(k)).mark).toBe(i + 1);
      for (const k of variants) expect(await store.listVoids(k)).toEqual([]);
    });

    it('lets exactly one of many concurrent advances from the same mark win', async () => {
      const { store, newKey } = harness();
      const key = newKey();
      await store.read(key, 1);
      await store.advance(key, { from: null, to: 5, fence: 1 });
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => code(store.advance(key, { from: 5, to: 6 + i, fence: 1 }))),
      );
      expect(results.filter((r) => r === 'resolved')).toHaveLength(1);
      expect(results.filter((r) => r === 'SEQUENCER_COUNTER_CONFLICT')).toHaveLength(7);
      const winner = results.indexOf('resolved');
      expect((await store.peek(key)).mark).toBe(6 + winner);
    });
  });
}
