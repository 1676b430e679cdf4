// The edges of counting the lockout with rate-limiter-flexible: a success settled after its window ended
// gives no credit to later failures, a sub-second window still ends in Redis (the library counts whole
// seconds there), and counts written in the key layout of earlier releases still lock.
import { isTenantryError } from '@tenantry/core';
import { hasBackend, skipLabel, useRedisPrefix } from '@tenantry/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type SignInLockout, createSignInLockout } from '../src/index.js';

async function outcome(lockout: SignInLockout, key: string, status: number): Promise<number | string> {
  try {
    const attempt = await lockout.attempt(key);
    await attempt.settle(status);
    return status;
  } catch (e) {
    return isTenantryError(e) ? e.code : 'untyped';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createSignInLockout in memory, at the window edge', () => {
  it('a success settled after its window ended gives no credit to later failures', async () => {
    const lockout = createSignInLockout({ maxFailures: 2, windowMs: 100 });
    const slow = await lockout.attempt('a');
    await sleep(150); // the sign-in outlives the window
    await slow.settle(200);
    expect(await outcome(lockout, 'a', 401)).toBe(401);
    expect(await outcome(lockout, 'a', 401)).toBe(401);
    expect(await outcome(lockout, 'a', 200)).toBe('HTTP_ACCOUNT_LOCKED');
  });

  it('a success settled after its window ended gives no credit to failures already counted in the next window', async () => {
    const lockout = createSignInLockout({ maxFailures: 2, windowMs: 100 });
    const slow = await lockout.attempt('b');
    await sleep(150); // the sign-in outlives the window; meanwhile a new window fills with failures
    expect(await outcome(lockout, 'b', 401)).toBe(401);
    expect(await outcome(lockout, 'b', 401)).toBe(401);
    await slow.settle(200); // must not take a failure of the new window off its count
    expect(await outcome(lockout, 'b', 401)).toBe('HTTP_ACCOUNT_LOCKED');
  });
});

describe.skipIf(!hasBackend('redis'))(`createSignInLockout in Redis, edges${skipLabel('redis')}`, () => {
  const redis = useRedisPrefix();
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis(redis.url(), { maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });

  it('keeps the key layout of earlier releases (<prefix><key>, a counter with a TTL)', async () => {
    const c = client();
    const prefix = `${redis.prefix()}layout:`;
    // Two failures as the hand-written counter of earlier releases stored them.
    await c.set(`${prefix}acct:old`, '2', 'PX', 60_000);
    const lockout = createSignInLockout({ redis: c, maxFailures: 2, prefix });
    expect(await outcome(lockout, 'acct:old', 200)).toBe('HTTP_ACCOUNT_LOCKED');
    expect(await outcome(lockout, 'acct:new', 401)).toBe(401);
    expect(await c.get(`${prefix}acct:new`)).toBe('1');
    const ttl = await c.pttl(`${prefix}acct:new`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(900_000);
  });

  it('a sub-second window ends (rounded up to one second), and a success after it gives no credit', async () => {
    const c = client();
    const lockout = createSignInLockout({ redis: c, maxFailures: 1, windowMs: 300, prefix: redis.prefix() });
    expect(await outcome(lockout, 'acct:s', 401)).toBe(401);
    expect(await outcome(lockout, 'acct:s', 200)).toBe('HTTP_ACCOUNT_LOCKED');
    await sleep(1_100);
    const slow = await lockout.attempt('acct:s');
    await sleep(1_100);
    await slow.settle(200);
    expect(await outcome(lockout, 'acct:s', 401)).toBe(401);
    expect(await outcome(lockout, 'acct:s', 200)).toBe('HTTP_ACCOUNT_LOCKED');
  });

  it('a success settled after its window ended gives no credit to failures already counted in the next window', async () => {
    const c = client();
    const lockout = createSignInLockout({
      redis: c,
      maxFailures: 2,
      windowMs: 1_000,
      prefix: redis.prefix(),
    });
    const slow = await lockout.attempt('acct:w');
    await sleep(1_100); // the sign-in outlives the window; meanwhile a new window fills with failures
    expect(await outcome(lockout, 'acct:w', 401)).toBe(401);
    expect(await outcome(lockout, 'acct:w', 401)).toBe(401);
    await slow.settle(200); // must not take a failure of the new window off its count
    expect(await outcome(lockout, 'acct:w', 401)).toBe('HTTP_ACCOUNT_LOCKED');
  });
});

describe.each([
  ['memory', false],
  ['Redis', true],
])('createSignInLockout in %s, against many guesses at once', (_name, inRedis) => {
  const redis = inRedis && hasBackend('redis') ? useRedisPrefix() : undefined;
  const clients: Redis[] = [];
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });
  const make = (maxFailures: number) => {
    if (!redis) return createSignInLockout({ maxFailures });
    const c = new Redis(redis.url(), { maxRetriesPerRequest: 1 });
    clients.push(c);
    return createSignInLockout({ redis: c, maxFailures, prefix: redis.prefix() });
  };

  it.skipIf(inRedis && !hasBackend('redis'))(
    `admits exactly maxFailures of 20 parallel wrong guesses${inRedis ? skipLabel('redis') : ''}`,
    async () => {
      const lockout = make(5);
      const out = await Promise.all(Array.from({ length: 20 }, () => outcome(lockout, 'acct:p', 401)));
      expect(out.filter((o) => o === 401)).toHaveLength(5);
      expect(out.filter((o) => o === 'HTTP_ACCOUNT_LOCKED')).toHaveLength(15);
    },
  );

  it.skipIf(inRedis && !hasBackend('redis'))(
    `a success takes back only its own attempt: others' failures, and other accounts, keep their counts${inRedis ? skipLabel('redis') : ''}`,
    async () => {
      const lockout = make(3);
      for (let i = 0; i < 2; i++) expect(await outcome(lockout, 'acct:v', 401)).toBe(401);
      expect(await outcome(lockout, 'acct:v', 200)).toBe(200); // the owner signs in meanwhile
      expect(await outcome(lockout, 'acct:other', 200)).toBe(200); // another account's success
      expect(await outcome(lockout, 'acct:v', 401)).toBe(401); // the third failure
      expect(await outcome(lockout, 'acct:v', 401)).toBe('HTTP_ACCOUNT_LOCKED');
      expect(await outcome(lockout, 'acct:v', 200)).toBe('HTTP_ACCOUNT_LOCKED');
    },
  );
});
