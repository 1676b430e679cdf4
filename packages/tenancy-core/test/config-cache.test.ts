import { describe, expect, it } from 'vitest';
import { ManualClock, type Tenant, createTenantConfigCache, createTenantDirectory } from '../src/index.js';
import { MemoryInvalidationBus, MemoryTenantStore } from '../src/memory.js';
import { asTenant, backOffice } from './helpers.js';

async function setup(ttlMs = 30_000) {
  const store = new MemoryTenantStore();
  const bus = new MemoryInvalidationBus();
  const clock = new ManualClock('2026-01-01T00:00:00Z');
  // The writer and the cache share only the bus, as two processes would.
  const writer = backOffice(createTenantDirectory({ store, bus, clock }));
  const cache = createTenantConfigCache({ store, bus, clock, ttlMs });
  await writer.createTenant({ id: 'acme', name: 'Acme', settings: { 'ui.theme': 'light' } });
  await writer.putPlan({ id: 'pro', name: 'Pro', features: { 'exports.csv': true } });
  await writer.startSubscription({ tenantId: 'acme', planId: 'pro' });
  return { store, bus, clock, writer, cache };
}

describe('tenant config cache (in-process bus)', () => {
  it('serves repeated reads from memory, and re-reads after an update to the tenant', async () => {
    const { cache, writer } = await setup();
    await cache.start();
    await asTenant('acme', () => cache.get());
    await asTenant('acme', () => cache.get());
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
    await writer.updateTenant('acme', { settings: { 'ui.theme': 'dark' } });
    expect((await asTenant('acme', () => cache.get()))?.tenant.settings['ui.theme']).toBe('dark');
    expect(cache.stats().misses).toBe(2);
  });

  it('invalidates on subscription, plan and platform changes', async () => {
    const { cache, writer, store } = await setup();
    await cache.start();
    const sub = await store.currentSubscription('acme');
    await asTenant('acme', () => cache.get());
    await writer.transitionSubscription(sub!.id, 'PAST_DUE');
    expect((await asTenant('acme', () => cache.get()))?.subscription?.status).toBe('PAST_DUE');
    await writer.putPlan({ id: 'pro', name: 'Pro', features: { 'exports.csv': false } });
    expect((await asTenant('acme', () => cache.get()))?.plan?.features['exports.csv']).toBe(false);
    await writer.updatePlatformSettings({ maintenance: true });
    expect((await asTenant('acme', () => cache.get()))?.platform.maintenance).toBe(true);
  });

  it('never serves from memory before start() or while the subscription is down, and flushes on reconnect', async () => {
    const { cache, writer, bus } = await setup();
    await asTenant('acme', () => cache.get());
    await asTenant('acme', () => cache.get());
    expect(cache.stats().hits).toBe(0); // not started: bypass
    await cache.start();
    await asTenant('acme', () => cache.get());
    const outage = bus.simulateDisconnect();
    expect(cache.healthy).toBe(false);
    await writer.updateTenant('acme', { name: 'Acme (missed message)' }); // this message is lost
    expect((await asTenant('acme', () => cache.get()))?.tenant.name).toBe('Acme (missed message)');
    outage.resume();
    expect(cache.healthy).toBe(true);
    expect((await asTenant('acme', () => cache.get()))?.tenant.name).toBe('Acme (missed message)');
    expect(cache.stats().resets).toBe(1);
  });

  it('does not cache a load that raced with an invalidation', async () => {
    const { cache, writer, store } = await setup();
    await cache.start();
    // Make the store pause inside the load, and update the tenant meanwhile.
    const original = store.getTenant.bind(store);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let first = true;
    store.getTenant = async (id: string): Promise<Tenant | null> => {
      const t = await original(id);
      if (first) {
        first = false;
        await gate;
      }
      return t;
    };
    const slow = asTenant('acme', () => cache.get());
    await new Promise((r) => setTimeout(r, 5));
    await writer.updateTenant('acme', { name: 'Acme v2' });
    release();
    expect((await slow)?.tenant.name).toBe('Acme'); // the old read returns what it read…
    expect((await asTenant('acme', () => cache.get()))?.tenant.name).toBe('Acme v2'); // …but was not cached
  });

  it('re-reads after the TTL even without any message (safety net)', async () => {
    const { cache, store, clock } = await setup(1_000);
    await cache.start();
    await asTenant('acme', () => cache.get());
    const t = (await store.getTenant('acme'))!;
    await store.replaceTenant({ ...t, name: 'changed behind the bus', version: t.version + 1 }, t.version);
    expect((await asTenant('acme', () => cache.get()))?.tenant.name).toBe('Acme');
    clock.advance(1_001);
    expect((await asTenant('acme', () => cache.get()))?.tenant.name).toBe('changed behind the bus');
  });

  it('returns frozen values, so a caller cannot corrupt the cache', async () => {
    const { cache } = await setup();
    await cache.start();
    const c = await asTenant('acme', () => cache.get());
    expect(() => {
      (c!.tenant.settings as Record<string, unknown>)['ui.theme'] = 'hacked';
    }).toThrow();
    expect(await asTenant('nobody', () => cache.get())).toBeNull();
  });
});

describe('tenant config cache: peek (memory only, no I/O)', () => {
  it('answers what get answered while the entry is fresh; nothing before start, on a miss, after a write or the TTL', async () => {
    const { cache, writer, clock } = await setup(1_000);
    expect(await asTenant('acme', async () => cache.peek())).toBeUndefined(); // not started
    await cache.start();
    expect(await asTenant('acme', async () => cache.peek())).toBeUndefined(); // not loaded yet
    const loaded = await asTenant('acme', () => cache.get());
    const hits = cache.stats().hits;
    expect(await asTenant('acme', async () => cache.peek())).toEqual(loaded);
    expect(cache.stats().hits).toBe(hits + 1);
    await writer.updateTenant('acme', { name: 'Acme v2' });
    expect(await asTenant('acme', async () => cache.peek())).toBeUndefined(); // invalidated
    await asTenant('acme', () => cache.get());
    expect((await asTenant('acme', async () => cache.peek()))?.tenant.name).toBe('Acme v2');
    clock.advance(1_001);
    expect(await asTenant('acme', async () => cache.peek())).toBeUndefined(); // expired
    expect(cache.stats().hits).toBe(hits + 2); // misses count nothing
  });

  it('answers nothing while the subscription is down, nor after it is back until a read reloads', async () => {
    const { cache, bus } = await setup();
    await cache.start();
    await asTenant('acme', () => cache.get());
    const outage = bus.simulateDisconnect();
    expect(await asTenant('acme', async () => cache.peek())).toBeUndefined();
    outage.resume();
    expect(await asTenant('acme', async () => cache.peek())).toBeUndefined(); // flushed on reconnect
  });

  it("answers an acceptance only when that user's acceptance of that document is cached", async () => {
    const { cache, writer } = await setup();
    await cache.start();
    const agreement = { userId: 'u-1', document: 'terms-of-service' };
    await asTenant('acme', () => cache.get());
    expect(await asTenant('acme', async () => cache.peek(undefined, { agreement }))).toBeUndefined();
    await asTenant('acme', () => cache.get(undefined, { agreement }));
    expect(await asTenant('acme', async () => cache.peek(undefined, { agreement }))).toMatchObject({
      agreement: null,
    });
    await writer.acceptTerms({ tenantId: 'acme', userId: 'u-1', version: '2026-01' });
    expect(await asTenant('acme', async () => cache.peek(undefined, { agreement }))).toBeUndefined();
    await asTenant('acme', () => cache.get(undefined, { agreement }));
    expect(await asTenant('acme', async () => cache.peek(undefined, { agreement }))).toMatchObject({
      agreement: { version: '2026-01' },
    });
    const other = { userId: 'u-2', document: 'terms-of-service' };
    expect(await asTenant('acme', async () => cache.peek(undefined, { agreement: other }))).toBeUndefined();
  });

  it('resolves the tenant as get does (T1)', async () => {
    const { cache } = await setup();
    await cache.start();
    await asTenant('acme', () => cache.get());
    expect(() => cache.peek()).toThrow(expect.objectContaining({ code: 'TENANT_CONTEXT_MISSING' }));
    await expect(asTenant('acme', async () => cache.peek('other'))).rejects.toMatchObject({
      code: 'TENANT_CONTEXT_CONFLICT',
    });
  });
});
