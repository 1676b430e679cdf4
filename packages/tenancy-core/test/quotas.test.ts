import { describe, expect, it } from 'vitest';
import { ManualClock, createQuotas, isTenantryError, windowBounds } from '../src/index.js';
import { MemoryQuotaStore } from '../src/memory.js';
import { asSystem } from './helpers.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('quota windows (fixed, UTC-aligned on the injected clock)', () => {
  it('aligns minute, hour, day, week (Monday) and month windows', () => {
    const now = Date.parse('2026-03-05T13:47:12.345Z'); // a Thursday
    const b = (w: Parameters<typeof windowBounds>[0]) => {
      const r = windowBounds(w, now);
      return [iso(r.start), iso(r.end)];
    };
    expect(b('minute')).toEqual(['2026-03-05T13:47:00.000Z', '2026-03-05T13:48:00.000Z']);
    expect(b('hour')).toEqual(['2026-03-05T13:00:00.000Z', '2026-03-05T14:00:00.000Z']);
    expect(b('day')).toEqual(['2026-03-05T00:00:00.000Z', '2026-03-06T00:00:00.000Z']);
    expect(b('week')).toEqual(['2026-03-02T00:00:00.000Z', '2026-03-09T00:00:00.000Z']);
    expect(b('month')).toEqual(['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z']);
    expect(b({ ms: 10_000 })).toEqual(['2026-03-05T13:47:10.000Z', '2026-03-05T13:47:20.000Z']);
    const dec = windowBounds('month', Date.parse('2026-12-31T23:59:59Z'));
    expect([iso(dec.start), iso(dec.end)]).toEqual(['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  });
});

describe('createQuotas', () => {
  it('validates definitions and inputs', () => {
    const store = new MemoryQuotaStore();
    expect(() => createQuotas({ store, quotas: { 'Bad Name': { window: 'day' } } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => createQuotas({ store, quotas: { emails: { window: 'fortnight' as 'day' } } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('refuses an amount above the limit without consuming, and refunds', () =>
    asSystem(async () => {
      const clock = new ManualClock('2026-03-05T10:00:00Z');
      const q = createQuotas({
        store: new MemoryQuotaStore(),
        clock,
        quotas: { sms: { window: 'hour', defaultLimit: 5 } },
      });
      expect((await q.tryConsume('sms', { tenantId: 'acme', amount: 6 })).ok).toBe(false);
      expect((await q.consume('sms', { tenantId: 'acme', amount: 5 })).remaining).toBe(0);
      await expect(q.consume('sms', { tenantId: 'acme' })).rejects.toSatisfy((e) =>
        isTenantryError(e, 'QUOTA_EXCEEDED'),
      );
      const { windowStart } = await q.usage('sms', { tenantId: 'acme' });
      expect((await q.refund('sms', { tenantId: 'acme', amount: 2, windowStart })).used).toBe(3);
      expect((await q.consume('sms', { tenantId: 'acme', amount: 2 })).used).toBe(5);
      await expect(q.consume('sms', { tenantId: 'acme', amount: 0 })).rejects.toSatisfy((e) =>
        isTenantryError(e, 'VALIDATION_FAILED'),
      );
    }));

  it('a plan limit of 0 blocks, a plan limit beats the default, a faulty plan value is refused', () =>
    asSystem(async () => {
      const plan: Record<string, number | null | undefined> = { free: 0, pro: 50, bad: -1 };
      const q = createQuotas({
        store: new MemoryQuotaStore(),
        quotas: { emails: { window: 'day', defaultLimit: 10 } },
        limitFor: (t) => plan[t],
      });
      expect((await q.tryConsume('emails', { tenantId: 'free' })).ok).toBe(false);
      expect((await q.consume('emails', { tenantId: 'pro', amount: 50 })).limit).toBe(50);
      expect((await q.consume('emails', { tenantId: 'other', amount: 10 })).limit).toBe(10);
      await expect(q.consume('emails', { tenantId: 'bad' })).rejects.toSatisfy((e) =>
        isTenantryError(e, 'VALIDATION_FAILED'),
      );
    }));
});
