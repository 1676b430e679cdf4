// The framework-free sign-in lockout both adapters call: only failures count, a success is taken back,
// more than maxFailures failures lock the account (even for a success) until the window ends, in memory
// and in Redis (shared by two clients, as two processes would).
import { isTenantryError } from '@tenantry/core';
import { hasBackend, skipLabel, useRedisPrefix } from '@tenantry/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type SignInLockout, createSignInLockout, lockoutKey } from '../src/index.js';

async function outcome(lockout: SignInLockout, key: string, status: number): Promise<number | string> {
  try {
    const attempt = await lockout.attempt(key);
    await attempt.settle(status);
    return status;
  } catch (e) {
    return isTenantryError(e) ? e.code : 'untyped';
  }
}

describe('lockoutKey', () => {
  it('hashes the trimmed, lower-cased account, and falls back to the address', () => {
    const k = lockoutKey(' Ann@Example.com ', '10.0.0.1');
    expect(k).toBe(lockoutKey('ann@example.com', '10.0.0.9'));
    expect(k).toMatch(/^acct:[A-Za-z0-9_-]{43}$/);
    expect(k).not.toContain('ann');
    expect(lockoutKey(undefined, '10.0.0.1')).toBe('ip:10.0.0.1');
    expect(lockoutKey('  ', '10.0.0.1')).toBe('ip:10.0.0.1');
  });
});

describe('createSignInLockout in memory', () => {
  it('locks after maxFailures failures until the window ends; successes do not count', async () => {
    const lockout = createSignInLockout({ maxFailures: 2, windowMs: 300 });
    expect(await outcome(lockout, 'a', 200)).toBe(200);
    expect(await outcome(lockout, 'a', 401)).toBe(401);
    expect(await outcome(lockout, 'a', 200)).toBe(200);
    expect(await outcome(lockout, 'a', 401)).toBe(401);
    expect(await outcome(lockout, 'a', 200)).toBe('HTTP_ACCOUNT_LOCKED');
    expect(await outcome(lockout, 'b', 200)).toBe(200);
    await new Promise((r) => setTimeout(r, 350));
    expect(await outcome(lockout, 'a', 200)).toBe(200);
  });

  it('reports when the lock ends', async () => {
    const lockout = createSignInLockout({ maxFailures: 1, windowMs: 60_000 });
    await outcome(lockout, 'a', 401);
    const refused = await lockout.attempt('a').catch((e: unknown) => e);
    expect(isTenantryError(refused, 'HTTP_ACCOUNT_LOCKED')).toBe(true);
    expect((refused as { details: { retryAfterSec: number } }).details.retryAfterSec).toBeGreaterThan(50);
  });

  it('refuses malformed settings with VALIDATION_FAILED', () => {
    for (const bad of [undefined, { maxFailures: 0 }, { windowMs: 1.5 }, { prefix: '' }, { redis: {} }]) {
      let code: string | undefined;
      try {
        createSignInLockout(bad as never);
      } catch (e) {
        code = isTenantryError(e) ? e.code : 'untyped';
      }
      expect(code).toBe('VALIDATION_FAILED');
    }
  });
});

describe.skipIf(!hasBackend('redis'))(`createSignInLockout in Redis${skipLabel('redis')}`, () => {
  const redis = useRedisPrefix();
  const clients: Redis[] = [];
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });

  it('shares the count between two clients, and answers HTTP_STORE_UNAVAILABLE when Redis is gone', async () => {
    const make = () => {
      const c = new Redis(redis.url(), { maxRetriesPerRequest: 1 });
      clients.push(c);
      return createSignInLockout({ redis: c, maxFailures: 2, prefix: redis.prefix() });
    };
    const [one, two] = [make(), make()];
    expect(await outcome(one, 'acct:x', 401)).toBe(401);
    expect(await outcome(two, 'acct:x', 200)).toBe(200);
    expect(await outcome(two, 'acct:x', 401)).toBe(401);
    expect(await outcome(one, 'acct:x', 200)).toBe('HTTP_ACCOUNT_LOCKED');
    expect(await outcome(two, 'acct:y', 200)).toBe(200);
    const down = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined); // the refused connection, expected here
    clients.push(down);
    expect(await outcome(createSignInLockout({ redis: down }), 'acct:x', 200)).toBe('HTTP_STORE_UNAVAILABLE');
  });
});
