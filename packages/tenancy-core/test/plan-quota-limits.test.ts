import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  MemoryQuotaStore,
  MemoryTenantStore,
  createQuotas,
  createTenantConfigCache,
  createTenantDirectory,
  MemoryInvalidationBus,
  planQuotaLimits,
} from '../src/index.js';

describe('plan-driven quota limits', () => {
  it('enforces the limit from the tenant current plan and follows plan changes', async () => {
    const store = new MemoryTenantStore();
    const bus = new MemoryInvalidationBus();
    const directory = createTenantDirectory({ store, bus });
    const cache = createTenantConfigCache({ store, bus });
    await cache.start();
    await directory.putPlan({
      id: 'starter',
      name: 'Starter',
      quotas: { emails: { limit: 2, window: 'day' } },
    });
    await directory.createTenant({ id: 'acme', name: 'Acme' });
    await directory.startSubscription({ tenantId: 'acme', planId: 'starter' });
    const quotas = createQuotas({
      store: new MemoryQuotaStore(),
      quotas: { emails: { window: 'day' } },
      limitFor: planQuotaLimits(cache),
      clock: new ManualClock('2026-03-05T10:00:00Z'),
    });
    expect((await quotas.tryConsume('emails', { tenantId: 'acme' })).ok).toBe(true);
    expect((await quotas.tryConsume('emails', { tenantId: 'acme' })).ok).toBe(true);
    expect((await quotas.tryConsume('emails', { tenantId: 'acme' })).ok).toBe(false);
    await directory.putPlan({
      id: 'starter',
      name: 'Starter',
      quotas: { emails: { limit: 3, window: 'day' } },
    });
    expect((await quotas.tryConsume('emails', { tenantId: 'acme' })).ok).toBe(true);
    await expect(quotas.consume('emails', { tenantId: 'ghost' })).rejects.toMatchObject({
      code: 'QUOTA_UNKNOWN',
    });
    await cache.close();
  });
});
