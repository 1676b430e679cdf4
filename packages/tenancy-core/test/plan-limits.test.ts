import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  createQuotas,
  createTenantConfigCache,
  createTenantDirectory,
  planQuotaLimits,
} from '../src/index.js';
import { MemoryQuotaStore, MemoryTenantStore, MemoryInvalidationBus } from '../src/memory.js';
import { asTenant, backOffice } from './helpers.js';

describe('plan-driven quota limits', () => {
  it('enforces the limit from the tenant current plan and follows plan changes', async () => {
    const store = new MemoryTenantStore();
    const bus = new MemoryInvalidationBus();
    const directory = backOffice(createTenantDirectory({ store, bus }));
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
    expect((await asTenant('acme', () => quotas.tryConsume('emails'))).ok).toBe(true);
    expect((await asTenant('acme', () => quotas.tryConsume('emails'))).ok).toBe(true);
    expect((await asTenant('acme', () => quotas.tryConsume('emails'))).ok).toBe(false);
    await directory.putPlan({
      id: 'starter',
      name: 'Starter',
      quotas: { emails: { limit: 3, window: 'day' } },
    });
    expect((await asTenant('acme', () => quotas.tryConsume('emails'))).ok).toBe(true);
    await expect(asTenant('ghost', () => quotas.consume('emails'))).rejects.toMatchObject({
      code: 'QUOTA_UNKNOWN',
    });
    await cache.close();
  });
});
