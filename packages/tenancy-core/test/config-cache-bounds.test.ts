import { describe, expect, it } from 'vitest';
import { ManualClock, createTenantConfigCache, createTenantDirectory } from '../src/index.js';
import { MemoryInvalidationBus, MemoryTenantStore } from '../src/memory.js';
import { asTenant, backOffice } from './helpers.js';

// Issue 12 item 2: every cache keyed by tenant or user has a bound, and expired entries leave memory
// without waiting for a read of the same key.

async function setup(tenantCount: number, options: Record<string, number> = {}) {
  const store = new MemoryTenantStore();
  const bus = new MemoryInvalidationBus();
  const clock = new ManualClock('2026-01-01T00:00:00Z');
  const writer = backOffice(createTenantDirectory({ store, bus, clock }));
  for (let i = 0; i < tenantCount; i++) await writer.createTenant({ id: `t${i}`, name: `Tenant ${i}` });
  const cache = createTenantConfigCache({ store, bus, clock, ttlMs: 60_000, ...options });
  await cache.start();
  return { store, bus, clock, writer, cache };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('tenant config cache: bounds and eviction without reads', () => {
  it('holds at most maxEntries tenants however many are read, dropping the least recently loaded', async () => {
    const { cache } = await setup(300, { maxEntries: 50 });
    let peak = 0;
    for (let i = 0; i < 300; i++) {
      await asTenant(`t${i}`, () => cache.get());
      peak = Math.max(peak, cache.stats().tenants);
    }
    expect(peak).toBe(50);
    expect(cache.stats()).toMatchObject({ tenants: 50, evicted: 250, misses: 300 });
    // The 50 most recent are the ones kept: reading them again is all hits, an older one is a miss.
    for (let i = 250; i < 300; i++) await asTenant(`t${i}`, () => cache.get());
    expect(cache.stats().hits).toBe(50);
    await asTenant('t0', () => cache.get());
    expect(cache.stats().misses).toBe(301);
    await cache.close();
  });

  it('bounds terms acceptances in total over all tenants and users (maxAgreements), not per tenant', async () => {
    const { cache } = await setup(20, { maxAgreements: 100 });
    let peak = 0;
    for (let t = 0; t < 20; t++) {
      for (let u = 0; u < 30; u++) {
        await asTenant(`t${t}`, () =>
          cache.get(undefined, { agreement: { userId: `u${u}`, document: 'tos' } }),
        );
        peak = Math.max(peak, cache.stats().agreements);
      }
    }
    expect(peak).toBe(100);
    expect(cache.stats().agreements).toBe(100);
    expect(cache.stats().tenants).toBe(20);
    await cache.close();
  });

  it('drops acceptances in load order: a hit does not extend an entry past its TTL or its turn', async () => {
    const { cache, store } = await setup(1, { maxAgreements: 3 });
    // Count the store reads of acceptances (the store is not what is tested here).
    let loads = 0;
    const latest = store.latestAgreement.bind(store);
    store.latestAgreement = (t, u, d) => {
      loads++;
      return latest(t, u, d);
    };
    const read = (u: string) =>
      asTenant('t0', () => cache.get(undefined, { agreement: { userId: u, document: 'tos' } }));
    await read('a');
    await read('b');
    await read('c');
    expect(loads).toBe(3);
    await read('a'); // hit: stays where it is (insertion order is expiry order)
    expect(loads).toBe(3);
    await read('d'); // evicts the oldest insertion, 'a'
    expect(loads).toBe(4);
    await read('b');
    await read('c');
    await read('d');
    expect(loads).toBe(4);
    await read('a');
    expect(loads).toBe(5);
    expect(cache.stats().agreements).toBe(3);
    await cache.close();
  });

  it('sweeps expired tenants and acceptances on a timer, with no read and no write at all', async () => {
    const { cache, clock } = await setup(40, { sweepIntervalMs: 5 });
    for (let i = 0; i < 40; i++) {
      await asTenant(`t${i}`, () => cache.get(undefined, { agreement: { userId: 'u', document: 'tos' } }));
    }
    expect(cache.stats()).toMatchObject({ tenants: 40, agreements: 40 });
    await sleep(30);
    expect(cache.stats()).toMatchObject({ tenants: 40, agreements: 40, expired: 0 }); // not yet expired
    clock.advance(60_001);
    await sleep(30);
    expect(cache.stats()).toMatchObject({ tenants: 0, agreements: 0, expired: 80 });
    await cache.close();
  });

  it('drops expired entries at the old end on every insertion (amortised, no timer needed)', async () => {
    const { cache, clock } = await setup(30, { sweepIntervalMs: 3_600_000 });
    for (let i = 0; i < 20; i++) await asTenant(`t${i}`, () => cache.get());
    clock.advance(30_000);
    for (let i = 20; i < 25; i++) await asTenant(`t${i}`, () => cache.get());
    clock.advance(30_001); // t0..t19 expired, t20..t24 not
    await asTenant('t29', () => cache.get());
    expect(cache.stats()).toMatchObject({ tenants: 6, expired: 20 });
    await cache.close();
  });

  it('stops sweeping on close(), and holds nothing after it', async () => {
    const { cache, clock } = await setup(10, { sweepIntervalMs: 5 });
    for (let i = 0; i < 10; i++) await asTenant(`t${i}`, () => cache.get());
    await cache.close();
    expect(cache.stats()).toMatchObject({ tenants: 0, agreements: 0 });
    clock.advance(60_001);
    await sleep(20);
    expect(cache.stats().expired).toBe(0); // flushed by close, not swept afterwards
  });

  it('a tenant invalidation drops that tenant’s acceptances and no other tenant’s', async () => {
    const { cache, writer } = await setup(2);
    for (const t of ['t0', 't1']) {
      for (const u of ['a', 'b']) {
        await asTenant(t, () => cache.get(undefined, { agreement: { userId: u, document: 'tos' } }));
      }
    }
    expect(cache.stats().agreements).toBe(4);
    await writer.updateTenant('t0', { name: 'renamed' });
    expect(cache.stats()).toMatchObject({ agreements: 2, tenants: 1 });
    const misses = cache.stats().misses;
    await asTenant('t1', () => cache.get(undefined, { agreement: { userId: 'a', document: 'tos' } }));
    expect(cache.stats().misses).toBe(misses);
    await cache.close();
  });

  it.each([
    ['maxEntries', 0],
    ['maxAgreements', -1],
    ['sweepIntervalMs', 1.5],
    ['maxEntries', Number.NaN],
  ])('refuses %s = %s with VALIDATION_FAILED', (name, value) => {
    const store = new MemoryTenantStore();
    const bus = new MemoryInvalidationBus();
    expect(() => createTenantConfigCache({ store, bus, [name]: value })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });
});
