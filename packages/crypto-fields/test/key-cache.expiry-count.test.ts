import { randomBytes } from 'node:crypto';
import { ManualClock } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { type EvictionReason, TenantKeyCache } from '../src/key-cache.js';
import { KeyMaterial } from '../src/key-material.js';

// A key cached as a tenant's primary is also cached by its id (one key, two slots). When it expires,
// it must be counted as one eviction whichever way it leaves: found by a load-dependent failure of
// key-cache.postgres.test.ts, where the sweep timer fired while an expired key was being loaded again
// and counted the stale primary slot a second time.
describe('TenantKeyCache expiry counts a key once', () => {
  const setup = () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const evicted: Array<[EvictionReason, number]> = [];
    const cache = new TenantKeyCache({
      maxTenants: 10,
      ttlMs: 1000,
      sweepIntervalMs: 3_600_000,
      clock,
      onEvict: (reason, keys) => evicted.push([reason, keys]),
    });
    cache.setPrimary(new KeyMaterial('t1', 'dk1', randomBytes(32), true));
    clock.advance(1001);
    return { cache, evicted };
  };
  const count = (e: Array<[EvictionReason, number]>) => e.reduce((n, [, k]) => n + k, 0);

  it('read by id, then swept before it is loaded again', () => {
    const { cache, evicted } = setup();
    expect(cache.key('t1', 'dk1')).toBeUndefined();
    cache.sweep();
    expect(evicted).toEqual([['expired', 1]]);
    expect(cache.tenants).toBe(0);
  });

  it('read by id, then as primary before it is loaded again', () => {
    const { cache, evicted } = setup();
    expect(cache.key('t1', 'dk1')).toBeUndefined();
    expect(cache.primary('t1')).toBeUndefined();
    expect(count(evicted)).toBe(1);
  });

  it('read as primary, then by id; or only swept', () => {
    const a = setup();
    expect(a.cache.primary('t1')).toBeUndefined();
    expect(a.cache.key('t1', 'dk1')).toBeUndefined();
    expect(count(a.evicted)).toBe(1);
    const b = setup();
    b.cache.sweep();
    expect(count(b.evicted)).toBe(1);
  });
});
