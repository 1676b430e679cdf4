import { randomUUID } from 'node:crypto';
import { runAsTenant } from '../kernel/context.js';
import { isTenantryError } from '../kernel/errors.js';
import { ManualClock } from '../kernel/ports/clock.js';
import type { QuotaConsumeRequest, QuotaStore } from '../platform/quotas/quota-store.js';
import { createQuotas } from '../platform/quotas/quotas.js';
import { settledCode } from './settled-code.js';
import type { SuiteApi } from './suite-api.js';

/**
 * What {@link quotaStoreConformance} needs from a backend: the store under test, ready to use.
 *
 * Harness contract: the suite calls the harness once per test, at its start, and uses that store for
 * the whole test. The harness may return a fresh store each time (`() => ({ store: new MyStore() })`)
 * or a shared one: tests use their own random tenant ids and never rely on another test's state.
 */
export interface QuotaStoreHarness {
  store: QuotaStore;
}

const T0 = Date.parse('2026-03-05T10:00:00.000Z');
const tenant = (): string => `t-${randomUUID().slice(0, 12)}`;
const req = (over: Partial<QuotaConsumeRequest> & { tenantId: string }): QuotaConsumeRequest => ({
  quota: 'emails',
  windowStart: T0,
  expiresAt: T0 + 3_600_000,
  now: T0,
  amount: 1,
  limit: 10,
  ...over,
});

/**
 * The quota backend contract: atomic, never past the limit, no partial grants, counters separate per
 * tenant/quota/window, refunds floor at zero, counters expire, and the `createQuotas` service on top
 * behaves identically. Runner-neutral: pass your runner's `{ describe, it, expect }`.
 * @example
 * import { describe, expect, it } from 'vitest';
 * import { quotaStoreConformance } from '@tenantry/core/testing';
 * describe('my quota store', () => quotaStoreConformance(() => ({ store: new MyQuotaStore() }), { describe, it, expect }));
 */
export function quotaStoreConformance(harness: () => QuotaStoreHarness, api: SuiteApi): void {
  const { describe, it, expect } = api;
  describe('QuotaStore conformance', () => {
    it('grants up to the limit, then refuses without changing the counter', async () => {
      const { store } = harness();
      const tenantId = tenant();
      const results = [];
      for (let i = 0; i < 12; i++) results.push(await store.consume(req({ tenantId })));
      expect(results.map((r) => r.granted)).toEqual([...Array(10).fill(true), false, false]);
      expect(results.map((r) => r.used)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10]);
      expect(await store.peek(req({ tenantId }), T0)).toBe(10);
    });

    it('never grants part of an amount', async () => {
      const { store } = harness();
      const tenantId = tenant();
      expect(await store.consume(req({ tenantId, amount: 8 }))).toEqual({ granted: true, used: 8 });
      expect(await store.consume(req({ tenantId, amount: 3 }))).toEqual({ granted: false, used: 8 });
      expect(await store.consume(req({ tenantId, amount: 2 }))).toEqual({ granted: true, used: 10 });
      expect(await store.consume(req({ tenantId, amount: 11, limit: 10 }))).toEqual({
        granted: false,
        used: 10,
      });
    });

    it('a limit of 0 refuses everything', async () => {
      const { store } = harness();
      const tenantId = tenant();
      expect(await store.consume(req({ tenantId, limit: 0 }))).toEqual({ granted: false, used: 0 });
      expect(await store.peek(req({ tenantId }), T0)).toBe(0);
    });

    it('keeps counters apart per tenant, quota and window', async () => {
      const { store } = harness();
      const a = tenant();
      const b = tenant();
      await store.consume(req({ tenantId: a, amount: 10 }));
      expect((await store.consume(req({ tenantId: a }))).granted).toBe(false);
      expect(await store.consume(req({ tenantId: b }))).toEqual({ granted: true, used: 1 });
      expect(await store.consume(req({ tenantId: a, quota: 'sms' }))).toEqual({ granted: true, used: 1 });
      const next = T0 + 86_400_000;
      expect(
        await store.consume(req({ tenantId: a, windowStart: next, now: next, expiresAt: next + 3_600_000 })),
      ).toEqual({ granted: true, used: 1 });
      expect(await store.peek(req({ tenantId: a }), T0)).toBe(10);
    });

    it('is atomic under concurrent consumers: exactly the limit is granted', async () => {
      const { store } = harness();
      const tenantId = tenant();
      const results = await Promise.all(
        Array.from({ length: 60 }, () => store.consume(req({ tenantId, limit: 25 }))),
      );
      expect(results.filter((r) => r.granted).length).toBe(25);
      const grantedUsed = results.filter((r) => r.granted).map((r) => r.used);
      expect([...grantedUsed].sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      expect(await store.peek(req({ tenantId }), T0)).toBe(25);
    });

    it('refunds lower the counter but never below zero, and never create one', async () => {
      const { store } = harness();
      const tenantId = tenant();
      expect(await store.refund(req({ tenantId }), 3, T0)).toBe(0);
      expect(await store.peek(req({ tenantId }), T0)).toBe(0);
      await store.consume(req({ tenantId, amount: 5 }));
      expect(await store.refund(req({ tenantId }), 2, T0)).toBe(3);
      expect(await store.refund(req({ tenantId }), 9, T0)).toBe(0);
      expect(await store.consume(req({ tenantId, amount: 10 }))).toEqual({ granted: true, used: 10 });
    });

    it('forgets a counter once it expires', async () => {
      const { store } = harness();
      const tenantId = tenant();
      const now = Date.now();
      const r = req({ tenantId, windowStart: now, now, expiresAt: now + 1000, amount: 10 });
      expect((await store.consume(r)).granted).toBe(true);
      expect((await store.consume({ ...r, amount: 1 })).granted).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      const later = now + 1300;
      expect(await store.peek(r, later)).toBe(0);
      expect(await store.consume({ ...r, now: later, expiresAt: later + 1000, amount: 1 })).toEqual({
        granted: true,
        used: 1,
      });
    }, 10_000);

    it('createQuotas on this store: a refund goes to the window the units were counted in, never the current one', async () => {
      const { store } = harness();
      const clock = new ManualClock('2026-03-05T23:59:59.999Z');
      const quotas = createQuotas({ store, clock, quotas: { emails: { window: 'day', defaultLimit: 3 } } });
      const t = tenant();
      const asT = <R>(fn: () => R): R => runAsTenant({ tenantId: t, actor: { id: 'u1' } }, fn);
      const lastOfDay = await asT(() => quotas.consume('emails'));
      clock.advance(1); // midnight: a new daily window
      for (let i = 0; i < 3; i++) await asT(() => quotas.consume('emails'));
      // The first send failed and is refunded after midnight: its window has closed, nothing changes.
      const refunded = await asT(() => quotas.refund('emails', { windowStart: lastOfDay.windowStart }));
      expect(refunded.windowStart.toISOString()).toBe('2026-03-05T00:00:00.000Z');
      expect((await asT(() => quotas.tryConsume('emails'))).ok).toBe(false); // no fourth send today
      expect((await asT(() => quotas.usage('emails'))).used).toBe(3);
      // A refund within the consumption's own window gives the units back there.
      const today = await asT(() => quotas.usage('emails'));
      expect((await asT(() => quotas.refund('emails', { windowStart: today.windowStart }))).used).toBe(2);
      expect((await asT(() => quotas.tryConsume('emails'))).ok).toBe(true);
      // A window start that is not one this quota counted in, or lies ahead, is refused.
      const ahead = new Date(today.resetAt);
      expect(await asT(() => settledCode(quotas.refund('emails', { windowStart: ahead })))).toBe(
        'VALIDATION_FAILED',
      );
      const skewed = new Date(today.windowStart.getTime() + 1);
      expect(await asT(() => settledCode(quotas.refund('emails', { windowStart: skewed })))).toBe(
        'VALIDATION_FAILED',
      );
    });

    it('createQuotas on this store: plan limits, typed refusal, tryConsume, daily reset', async () => {
      const { store } = harness();
      const clock = new ManualClock('2026-03-05T23:59:58.000Z');
      const limits: Record<string, number> = {};
      const quotas = createQuotas({
        store,
        clock,
        quotas: { emails: { window: 'day' }, 'api.calls': { window: 'minute', defaultLimit: null } },
        limitFor: (t, q) => (q === 'emails' ? limits[t] : undefined),
      });
      const t = tenant();
      limits[t] = 3;
      const first = await runAsTenant({ tenantId: t, actor: { id: 'u1' } }, () => quotas.consume('emails'));
      expect(first.used).toBe(1);
      expect(first.remaining).toBe(2);
      expect(first.resetAt.toISOString()).toBe('2026-03-06T00:00:00.000Z');
      const asT = <R>(fn: () => R): R => runAsTenant({ tenantId: t, actor: { id: 'u1' } }, fn);
      await asT(() => quotas.consume('emails', { amount: 2 }));
      const refused = await asT(() => quotas.tryConsume('emails'));
      expect(refused.ok).toBe(false);
      expect(refused.used).toBe(3);
      const exceeded = await asT(() => quotas.consume('emails')).catch((e: unknown) => e);
      expect(isTenantryError(exceeded, 'QUOTA_EXCEEDED')).toBe(true);
      expect(isTenantryError(exceeded) && exceeded.details).toMatchObject({
        limit: 3,
        resetAt: '2026-03-06T00:00:00.000Z',
      });
      clock.advance(2000); // next UTC day
      expect((await asT(() => quotas.consume('emails'))).used).toBe(1);
      expect((await asT(() => quotas.usage('emails'))).used).toBe(1);
      expect((await asT(() => quotas.consume('api.calls', { amount: 1000 }))).remaining).toBe(null);
      const other = tenant();
      expect(
        await runAsTenant({ tenantId: other, actor: { id: 'u2' } }, () =>
          settledCode(quotas.consume('emails')),
        ),
      ).toBe('QUOTA_UNKNOWN');
      expect(await asT(() => settledCode(quotas.consume('nope')))).toBe('QUOTA_UNKNOWN');
      expect(await settledCode(quotas.consume('emails'))).toBe('TENANT_CONTEXT_MISSING');
      expect(await settledCode(quotas.consume('emails', { tenantId: t }))).toBe('TENANT_CONTEXT_MISSING');
      expect(await asT(() => settledCode(quotas.consume('emails', { tenantId: other })))).toBe(
        'TENANT_CONTEXT_CONFLICT',
      );
    });
  });
}
