import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { runAsTenant } from '../context.js';
import { isTenantryError } from '../errors.js';
import { ManualClock } from '../ports/clock.js';
import type { QuotaConsumeRequest, QuotaStore } from './quota-store.js';
import { createQuotas } from './quotas.js';

/** What the quota conformance suite needs from a backend: a store, ready to use. */
export interface QuotaStoreHarness {
  store: QuotaStore;
}

/**
 * The test-declaring function of your runner (vitest's or jest's `it`). The suite asserts with
 * `node:assert`, so it does not import any test framework and this module loads anywhere.
 */
export interface QuotaConformanceApi {
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
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
 * behaves identically. Run it against your own backend:
 * @example
 * import { it } from 'vitest';
 * describe('my store', () => quotaStoreConformance({ it })(() => ({ store: myStore })));
 */
export function quotaStoreConformance(api: QuotaConformanceApi): (harness: () => QuotaStoreHarness) => void {
  const { it } = api;
  return (harness) => {
    it('grants up to the limit, then refuses without changing the counter', async () => {
      const { store } = harness();
      const tenantId = tenant();
      const results = [];
      for (let i = 0; i < 12; i++) results.push(await store.consume(req({ tenantId })));
      assert.deepEqual(
        results.map((r) => r.granted),
        [...Array(10).fill(true), false, false],
      );
      assert.deepEqual(
        results.map((r) => r.used),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10],
      );
      assert.equal(await store.peek(req({ tenantId }), T0), 10);
    });

    it('never grants part of an amount', async () => {
      const { store } = harness();
      const tenantId = tenant();
      assert.deepEqual(await store.consume(req({ tenantId, amount: 8 })), { granted: true, used: 8 });
      assert.deepEqual(await store.consume(req({ tenantId, amount: 3 })), { granted: false, used: 8 });
      assert.deepEqual(await store.consume(req({ tenantId, amount: 2 })), { granted: true, used: 10 });
      assert.deepEqual(await store.consume(req({ tenantId, amount: 11, limit: 10 })), {
        granted: false,
        used: 10,
      });
    });

    it('a limit of 0 refuses everything', async () => {
      const { store } = harness();
      const tenantId = tenant();
      assert.deepEqual(await store.consume(req({ tenantId, limit: 0 })), { granted: false, used: 0 });
      assert.equal(await store.peek(req({ tenantId }), T0), 0);
    });

    it('keeps counters apart per tenant, quota and window', async () => {
      const { store } = harness();
      const a = tenant();
      const b = tenant();
      await store.consume(req({ tenantId: a, amount: 10 }));
      assert.equal((await store.consume(req({ tenantId: a }))).granted, false);
      assert.deepEqual(await store.consume(req({ tenantId: b })), { granted: true, used: 1 });
      assert.deepEqual(await store.consume(req({ tenantId: a, quota: 'sms' })), { granted: true, used: 1 });
      const next = T0 + 86_400_000;
      assert.deepEqual(
        await store.consume(req({ tenantId: a, windowStart: next, now: next, expiresAt: next + 3_600_000 })),
        { granted: true, used: 1 },
      );
      assert.equal(await store.peek(req({ tenantId: a }), T0), 10);
    });

    it('is atomic under concurrent consumers: exactly the limit is granted', async () => {
      const { store } = harness();
      const tenantId = tenant();
      const results = await Promise.all(
        Array.from({ length: 60 }, () => store.consume(req({ tenantId, limit: 25 }))),
      );
      assert.equal(results.filter((r) => r.granted).length, 25);
      const grantedUsed = results.filter((r) => r.granted).map((r) => r.used);
      assert.deepEqual(
        [...grantedUsed].sort((x, y) => x - y),
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
      assert.equal(await store.peek(req({ tenantId }), T0), 25);
    });

    it('refunds lower the counter but never below zero, and never create one', async () => {
      const { store } = harness();
      const tenantId = tenant();
      assert.equal(await store.refund(req({ tenantId }), 3, T0), 0);
      assert.equal(await store.peek(req({ tenantId }), T0), 0);
      await store.consume(req({ tenantId, amount: 5 }));
      assert.equal(await store.refund(req({ tenantId }), 2, T0), 3);
      assert.equal(await store.refund(req({ tenantId }), 9, T0), 0);
      assert.deepEqual(await store.consume(req({ tenantId, amount: 10 })), { granted: true, used: 10 });
    });

    it('forgets a counter once it expires', async () => {
      const { store } = harness();
      const tenantId = tenant();
      const now = Date.now();
      const r = req({ tenantId, windowStart: now, now, expiresAt: now + 1000, amount: 10 });
      assert.equal((await store.consume(r)).granted, true);
      assert.equal((await store.consume({ ...r, amount: 1 })).granted, false);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      const later = now + 1300;
      assert.equal(await store.peek(r, later), 0);
      assert.deepEqual(await store.consume({ ...r, now: later, expiresAt: later + 1000, amount: 1 }), {
        granted: true,
        used: 1,
      });
    }, 10_000);

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
      assert.equal(first.used, 1);
      assert.equal(first.remaining, 2);
      assert.equal(first.resetAt.toISOString(), '2026-03-06T00:00:00.000Z');
      await quotas.consume('emails', { tenantId: t, amount: 2 });
      const refused = await quotas.tryConsume('emails', { tenantId: t });
      assert.equal(refused.ok, false);
      assert.equal(refused.used, 3);
      await assert.rejects(quotas.consume('emails', { tenantId: t }), (e: unknown) => {
        assert.ok(isTenantryError(e, 'QUOTA_EXCEEDED'));
        assert.equal(e.details.limit, 3);
        assert.equal(e.details.resetAt, '2026-03-06T00:00:00.000Z');
        return true;
      });
      clock.advance(2000); // next UTC day
      assert.equal((await quotas.consume('emails', { tenantId: t })).used, 1);
      assert.equal((await quotas.usage('emails', { tenantId: t })).used, 1);
      assert.equal((await quotas.consume('api.calls', { tenantId: t, amount: 1000 })).remaining, null);
      await assert.rejects(quotas.consume('emails', { tenantId: tenant() }), (e: unknown) =>
        isTenantryError(e, 'QUOTA_UNKNOWN'),
      );
      await assert.rejects(quotas.consume('nope', { tenantId: t }), (e: unknown) =>
        isTenantryError(e, 'QUOTA_UNKNOWN'),
      );
      await assert.rejects(quotas.consume('emails'), (e: unknown) =>
        isTenantryError(e, 'TENANT_CONTEXT_MISSING'),
      );
    });
  };
}
