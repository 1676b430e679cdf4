import { createHash } from 'node:crypto';
import { ValidationError, parseInput } from '@tenantry/core';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { z } from 'zod';
import { HttpTenancyError } from './errors.js';

/** The ioredis method the Express rate limits use (`redis.call(...)`); an ioredis `Redis` or `Cluster` fits. */
export interface RedisCallLike {
  call(command: string, ...args: Array<string | number>): Promise<unknown>;
}

/**
 * The ioredis client the lockout counts in: `rate-limiter-flexible`'s `RateLimiterRedis` registers its
 * Lua script on it with `defineCommand`. An ioredis `Redis` or `Cluster` fits.
 */
export interface LockoutRedisLike {
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): unknown;
}

/** Options of {@link createSignInLockout} (the adapters add how to read the account from a request). */
export interface SignInLockoutSettings {
  /** Shared store (an ioredis client), so the lockout holds across processes. Without it the count is per process (development only). */
  redis?: LockoutRedisLike;
  /** Failed attempts allowed per window; the next attempt is refused. @default 5 */
  maxFailures?: number;
  /**
   * Length of the fixed window, from the first failure, in milliseconds; in Redis rounded up to whole
   * seconds (the library's unit). @default 900000 (15 minutes)
   */
  windowMs?: number;
  /** Prefix of the Redis keys. @default 'tenantry:lockout:' */
  prefix?: string;
}

/** One admitted sign-in attempt: call {@link SignInAttempt.settle} with the answer's HTTP status once it is known. */
export interface SignInAttempt {
  /** Forget this attempt when the answer succeeded (status < 400); a failure stays counted. Idempotent. */
  settle(status: number): Promise<void>;
}

/** The lockout counters of {@link createSignInLockout}. */
export interface SignInLockout {
  /**
   * Count an attempt for `key` (from {@link lockoutKey}) before the sign-in handler runs.
   * @throws `HTTP_ACCOUNT_LOCKED` (423, `details.retryAfterSec`) when more than `maxFailures` attempts
   *   failed in the window; the refused attempt counts as a failure too
   * @throws `HTTP_STORE_UNAVAILABLE` (503) when Redis does not answer
   */
  attempt(key: string): Promise<SignInAttempt>;
}

const LockoutIpKeySchema = z.string().max(1024);

/**
 * The counter key of a sign-in attempt: the account (trimmed, lower-cased, SHA-256, so no e-mail address
 * lands in Redis) when it is a non-empty string, else the client's address (`ipKey`, e.g. an IPv6 /56).
 * @throws ValidationError `VALIDATION_FAILED` when `ipKey` is not a string of at most 1,024 characters
 */
export function lockoutKey(account: unknown, ipKey: string): string {
  const ip = parseInput(LockoutIpKeySchema, ipKey, 'lockout ip key');
  if (typeof account === 'string' && account.trim().length > 0) {
    return `acct:${createHash('sha256').update(account.trim().toLowerCase()).digest('base64url')}`;
  }
  return `ip:${ip}`;
}

/** The serialisable settings of {@link createSignInLockout} (the Redis client is checked for shape). */
export const SignInLockoutSettingsSchema = z.object({
  maxFailures: z.number().int().positive().optional(),
  windowMs: z.number().int().positive().optional(),
  prefix: z.string().min(1).max(256).optional(),
});

/** @internal Validate the settings with zod (paths, never values), and the client's shape. */
function checkLockoutSettings(options: unknown, what: string): asserts options is SignInLockoutSettings {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(what, [{ path: [], message: 'must be an object' }]);
  }
  const { redis, ...rest } = options as Record<string, unknown>;
  if (
    redis !== undefined &&
    typeof (redis as { defineCommand?: unknown } | null)?.defineCommand !== 'function'
  ) {
    throw new ValidationError(what, [
      { path: ['redis', 'defineCommand'], message: 'must be a function (an ioredis client or cluster)' },
    ]);
  }
  // Other keys (an adapter's `account` reader) are the adapter's to check.
  parseInput(SignInLockoutSettingsSchema, rest, what);
}

function unavailable(cause: unknown): HttpTenancyError {
  return new HttpTenancyError('HTTP_STORE_UNAVAILABLE', 'The sign-in lockout store did not answer', {
    cause,
  });
}

/**
 * Account lockout after repeated failed sign-ins, framework-free (both adapters wire it), counted by
 * `rate-limiter-flexible`: every attempt is consumed before the handler runs (so parallel guesses
 * count too) and rewarded back when its answer succeeds, so only failures (and attempts still in
 * flight) count. Once more than `maxFailures` attempts failed in the window, every attempt, even with
 * the right password, is refused with `HTTP_ACCOUNT_LOCKED` until the window ends (refused attempts
 * count as failures too). Counters live in Redis (`RateLimiterRedis`) when `redis` is given, so every
 * process shares them, else in memory (`RateLimiterMemory`).
 * @throws `VALIDATION_FAILED` for malformed settings
 * @example
 * const lockout = createSignInLockout({ redis, maxFailures: 5 });
 * const attempt = await lockout.attempt(lockoutKey(body.email, ip)); // may throw HTTP_ACCOUNT_LOCKED
 * // … answer the sign-in, then:
 * await attempt.settle(status);
 */
export function createSignInLockout(
  settings: SignInLockoutSettings,
  what = 'sign-in lockout options',
): SignInLockout {
  checkLockoutSettings(settings, what);
  const maxFailures = settings.maxFailures ?? 5;
  const windowMs = settings.windowMs ?? 900_000;
  // No blockDuration: the lock ends with the window, as documented, rather than windowMs after the
  // locking attempt. No insuranceLimiter: Redis down is a 503, never a per-process count.
  // keyPrefix '' with our prefix on the key keeps the keys of earlier releases (`<prefix><key>`).
  const limiter: RateLimiterAbstract = settings.redis
    ? new RateLimiterRedis({
        storeClient: settings.redis,
        points: maxFailures,
        // The Redis limiter counts whole seconds (a shorter duration would never expire).
        duration: Math.ceil(windowMs / 1000),
        keyPrefix: '',
      })
    : new RateLimiterMemory({ points: maxFailures, duration: windowMs / 1000, keyPrefix: '' });
  const prefix = settings.prefix ?? 'tenantry:lockout:';
  return {
    async attempt(key) {
      const k = prefix + key;
      // When the window this attempt was counted in ends (monotonic clock): a success settled later
      // must not be rewarded, or it would take a failure of the next window off its count.
      let windowEnds: number;
      try {
        windowEnds = performance.now() + (await limiter.consume(k)).msBeforeNext;
      } catch (e) {
        // The library refuses with a RateLimiterRes (over the limit), anything else is the store failing.
        if (!(e instanceof RateLimiterRes)) throw unavailable(e);
        throw new HttpTenancyError(
          'HTTP_ACCOUNT_LOCKED',
          'Too many failed sign-ins; the account is locked for a while',
          { details: { retryAfterSec: Math.max(1, Math.ceil(e.msBeforeNext / 1000)) } },
        );
      }
      let settled = false;
      return {
        async settle(status) {
          if (settled) return;
          settled = true;
          if (status >= 400 || performance.now() >= windowEnds) return;
          try {
            const res = await limiter.reward(k);
            // The window ended between the check above and the reward reaching the store: the reward
            // opened a new one below zero, which would be credit for later failures. Put it back to zero.
            if (res.consumedPoints < 0) await limiter.penalty(k, -res.consumedPoints);
          } catch (e) {
            throw unavailable(e);
          }
        },
      };
    },
  };
}
