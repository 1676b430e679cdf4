import { type Attributes, type Counter, type Meter, metrics } from '@opentelemetry/api';
import { ManualClock, isTenantryError } from '@tenantry/core';
import { CryptoMetricNames, type KeyProvider, localKeyProvider } from '@tenantry/crypto-fields';
import { MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { afterAll, describe, expect } from 'vitest';
import { MAX_KEYS_PER_TENANT } from '../src/key-cache.js';
import { MAX_FIELD_KEYS } from '../src/key-material.js';
import { keyringOf } from '../src/tenant-keys.js';
import { KEK1, ctx, itAsSystem as it, makeFields } from './helpers.js';

// Issue 12 item 1: the cache counted entries (two per tenant), so `maxEntries: 1000` held ~500 tenants
// and then thrashed silently. It is now sized in tenants, reports hits/misses/unwraps/evictions, and
// drops expired keys without waiting for a read.

/** A fake MeterProvider behind the public API: records every counter add (no SDK in this repository). */
const recorded: Array<{ name: string; value: number; attributes: Attributes | undefined }> = [];
const meter = {
  createCounter: (name: string) =>
    ({
      add: (value: number, attributes?: Attributes) => recorded.push({ name, value, attributes }),
    }) as Counter,
} as unknown as Meter;
metrics.setGlobalMeterProvider({ getMeter: () => meter });
afterAll(() => metrics.disable());
const total = (name: string, attr?: [string, string]) =>
  recorded
    .filter((r) => r.name === name && (attr === undefined || r.attributes?.[attr[0]] === attr[1]))
    .reduce((n, r) => n + r.value, 0);

/** Counts unwraps (KEK or KMS calls) without changing what the provider does. */
function countingProvider(): KeyProvider & { unwraps: number } {
  const inner = localKeyProvider({ keys: { kek1: KEK1 }, primary: 'kek1' });
  const p = {
    unwraps: 0,
    name: inner.name,
    primaryKekId: inner.primaryKekId,
    wrap: inner.wrap.bind(inner),
    unwrap: (w: Parameters<KeyProvider['unwrap']>[0], c: Parameters<KeyProvider['unwrap']>[1]) => {
      p.unwraps++;
      return inner.unwrap(w, c);
    },
  };
  return p;
}

const tenantCtx = (i: number) => ({ ...ctx, tenantId: `t${i}` });

describe('key cache sized in tenants', () => {
  it('a cache of N tenants holds N tenants round-robin: one unwrap per tenant, then only hits', async () => {
    const provider = countingProvider();
    const { fields } = makeFields({ provider, cache: { maxTenants: 50 } });
    const sealed: string[] = [];
    for (let i = 0; i < 50; i++) sealed.push(await fields.seal('v', tenantCtx(i)));
    expect(provider.unwraps).toBe(50);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) {
        await fields.seal('v', tenantCtx(i));
        expect(await fields.open(sealed[i]!, tenantCtx(i))).toBe('v');
      }
    }
    expect(provider.unwraps).toBe(50); // was 2 per tenant per round once past half the bound
    const stats = fields.keys.cacheStats();
    expect(stats).toMatchObject({ tenants: 50, keys: 50, maxTenants: 50, unwraps: 50, evictions: 0 });
    expect(stats.hits).toBe(300);
  });

  it('one tenant past the bound thrashes visibly: capacity evictions are counted and exported', async () => {
    const before = total(CryptoMetricNames.CACHE_EVICTIONS, ['reason', 'capacity']);
    const provider = countingProvider();
    const { fields } = makeFields({ provider, cache: { maxTenants: 50 } });
    for (let round = 0; round < 2; round++) for (let i = 0; i < 51; i++) await fields.seal('v', tenantCtx(i));
    expect(provider.unwraps).toBe(102); // LRU + round-robin one past the bound: every seal misses
    const stats = fields.keys.cacheStats();
    expect(stats.tenants).toBe(50);
    expect(stats.evictions).toBe(52);
    expect(total(CryptoMetricNames.CACHE_EVICTIONS, ['reason', 'capacity']) - before).toBe(52);
  });

  it('driven 20x past its bound, the cache never holds more than maxTenants tenants', async () => {
    const { fields } = makeFields({ cache: { maxTenants: 25 } });
    for (let i = 0; i < 500; i++) {
      await fields.seal('v', tenantCtx(i));
      await fields.blindIndex('v', tenantCtx(i));
      expect(fields.keys.cacheStats().tenants).toBeLessThanOrEqual(25);
    }
    // Two keys per tenant (data key, blind-index key), one entry per tenant.
    expect(fields.keys.cacheStats()).toMatchObject({ tenants: 25, keys: 50 });
  });

  it(`keeps at most ${MAX_KEYS_PER_TENANT} keys by id per tenant (old keys read during a long rotation history)`, async () => {
    const { fields } = makeFields();
    const olds: string[] = [];
    for (let i = 0; i < 3 * MAX_KEYS_PER_TENANT; i++) {
      olds.push(await fields.seal(`v${i}`, ctx));
      await fields.keys.rotate('acme');
    }
    for (const [i, c] of olds.entries()) expect(await fields.open(c, ctx)).toBe(`v${i}`);
    expect(fields.keys.cacheStats().tenants).toBe(1);
    expect(fields.keys.cacheStats().keys).toBeLessThanOrEqual(MAX_KEYS_PER_TENANT + 1);
  });

  it(`keeps at most ${MAX_FIELD_KEYS} blind-index field keys per tenant`, async () => {
    const { fields } = makeFields();
    for (let f = 0; f < 10 * MAX_FIELD_KEYS; f++) await fields.blindIndex('v', { ...ctx, field: `f${f}` });
    const k = await keyringOf(fields.keys).indexKey('acme');
    expect(k.fieldKeyCount).toBe(MAX_FIELD_KEYS);
    // An evicted field key derives again to the same value.
    const again = await fields.blindIndex('v', { ...ctx, field: 'f0' });
    expect(again).toBe(await fields.blindIndex('v', { ...ctx, field: 'f0' }));
  });

  it('expired keys are swept out without any read: memory drops to nothing, evictions counted', async () => {
    const store = new MemoryDataKeyStore();
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const { fields } = makeFields({ store, clock, cache: { ttlMs: 60_000, sweepIntervalMs: 10 } });
    for (let i = 0; i < 200; i++) {
      await fields.seal('v', tenantCtx(i));
      await fields.blindIndex('v', tenantCtx(i));
    }
    expect(fields.keys.cacheStats()).toMatchObject({ tenants: 200, keys: 400 });
    const reads = fields.keys.cacheStats().storeReads;
    const before = total(CryptoMetricNames.CACHE_EVICTIONS, ['reason', 'expired']);
    await new Promise((r) => setTimeout(r, 60));
    expect(fields.keys.cacheStats().tenants).toBe(200); // not expired yet: the sweep keeps them
    clock.advance(60_001);
    for (let i = 0; i < 100 && fields.keys.cacheStats().tenants > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(fields.keys.cacheStats()).toMatchObject({
      tenants: 0,
      keys: 0,
      storeReads: reads,
      evictions: 400,
    });
    expect(total(CryptoMetricNames.CACHE_EVICTIONS, ['reason', 'expired']) - before).toBe(400);
  });

  it('exports hits, misses, store reads and unwraps as OpenTelemetry counters', async () => {
    const name = CryptoMetricNames;
    const base = Object.fromEntries(Object.values(name).map((n) => [n, total(n)]));
    const { fields } = makeFields();
    const c = await fields.seal('v', ctx); // miss: read + create + unwrap
    for (let i = 0; i < 10; i++) await fields.open(c, ctx); // 10 hits
    await fields.blindIndex('v', ctx); // index miss
    await fields.blindIndex('v', ctx); // index hit
    const delta = (n: string) => total(n) - base[n]!;
    expect(delta(name.CACHE_HITS)).toBe(11);
    expect(delta(name.CACHE_MISSES)).toBe(2);
    expect(delta(name.STORE_READS)).toBe(2);
    expect(delta(name.UNWRAPS)).toBe(2);
    expect(total(name.CACHE_HITS, ['crypto.purpose', 'index']) - 0).toBeGreaterThanOrEqual(1);
    expect(fields.keys.cacheStats()).toMatchObject({ hits: 11, misses: 2, storeReads: 2, unwraps: 2 });
    // No tenant id, key id or value in any metric attribute.
    const dump = JSON.stringify(recorded);
    expect(dump).not.toContain('acme');
    expect(dump).not.toContain(describeKeyId(c));
  });

  it('the former `maxEntries` option is refused, not silently ignored', () => {
    try {
      makeFields({ cache: { maxEntries: 1000 } as never });
      expect.unreachable();
    } catch (e) {
      expect(isTenantryError(e, 'VALIDATION_FAILED')).toBe(true);
    }
  });
});

const describeKeyId = (c: string) => c.split(':')[2]!;
