import { createHash } from 'node:crypto';
import { ValidationError, parseInput } from '@tenantry/core';
import { z } from 'zod';
import { HttpTenancyError } from './errors.js';

/** The ioredis method the lockout counters use (`redis.call(...)`); an ioredis `Redis` or `Cluster` fits. */
export interface RedisCallLike {
  call(command: string, ...args: Array<string | number>): Promise<unknown>;
}

/** Options of {@link createSignInLockout} (the adapters add how to read the account from a request). */
export interface SignInLockoutSettings {
  /** Shared store, so the lockout holds across processes. Without it the count is per process (development only). */
  redis?: RedisCallLike;
  /** Failed attempts allowed per window; the next attempt is refused. @default 5 */
  maxFailures?: number;
  /** Length of the fixed window, from the first failure, in milliseconds. @default 900000 (15 minutes) */
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

/**
 * The counter key of a sign-in attempt: the account (trimmed, lower-cased, SHA-256, so no e-mail address
 * lands in Redis) when it is a non-empty string, else the client's address (`ipKey`, e.g. an IPv6 /56).
 */
export function lockoutKey(account: unknown, ipKey: string): string {
  if (typeof account === 'string' && account.trim().length > 0) {
    return `acct:${createHash('sha256').update(account.trim().toLowerCase()).digest('base64url')}`;
  }
  return `ip:${ipKey}`;
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
  if (redis !== undefined && typeof (redis as { call?: unknown } | null)?.call !== 'function') {
    throw new ValidationError(what, [{ path: ['redis', 'call'], message: 'must be a function' }]);
  }
  // Other keys (an adapter's `account` reader) are the adapter's to check.
  parseInput(SignInLockoutSettingsSchema, rest, what);
}

interface Counter {
  /** Add one; the window starts with the first hit. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  /** Take one back, if the window still runs. */
  undo(key: string): Promise<void>;
}

// One slot per script (one key): Redis Cluster safe. The same layout as rate-limit-redis (a counter with
// a PEXPIRE from its first hit), so the counts of apps that used express-rate-limit's store carry over.
const HIT = `local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}`;
const UNDO = `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0`;

function redisCounter(redis: RedisCallLike, prefix: string): Counter {
  const unavailable = (cause: unknown): never => {
    throw new HttpTenancyError('HTTP_STORE_UNAVAILABLE', 'The sign-in lockout store did not answer', {
      cause,
    });
  };
  return {
    async hit(key, windowMs) {
      const r = await redis.call('EVAL', HIT, 1, prefix + key, windowMs).catch(unavailable);
      const [count, ttl] = Array.isArray(r) ? r.map(Number) : [Number.NaN, Number.NaN];
      if (!Number.isFinite(count) || !Number.isFinite(ttl)) return unavailable(new Error('bad reply'));
      return { count: count as number, resetMs: Math.max(0, ttl as number) };
    },
    async undo(key) {
      await redis.call('EVAL', UNDO, 1, prefix + key).catch(unavailable);
    },
  };
}

function memoryCounter(): Counter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return {
    async hit(key, windowMs) {
      const now = Date.now();
      let w = windows.get(key);
      if (!w || w.resetAt <= now) {
        // Drop ended windows now and then, so the map stays as large as the live windows.
        if (windows.size >= 10_000) for (const [k, v] of windows) if (v.resetAt <= now) windows.delete(k);
        w = { count: 0, resetAt: now + windowMs };
        windows.set(key, w);
      }
      w.count++;
      return { count: w.count, resetMs: w.resetAt - now };
    },
    async undo(key) {
      const w = windows.get(key);
      if (w && w.resetAt > Date.now() && w.count > 0) w.count--;
    },
  };
}

/**
 * Account lockout after repeated failed sign-ins, framework-free (both adapters wire it): every attempt
 * is counted before the handler runs and taken back when its answer succeeds, so only failures (and
 * attempts still in flight) count. Once more than `maxFailures` attempts failed in the window, every
 * attempt, even with the right password, is refused with `HTTP_ACCOUNT_LOCKED` until the window ends.
 * Counters live in Redis when `redis` is given, so every process shares them.
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
  const counter = settings.redis
    ? redisCounter(settings.redis, settings.prefix ?? 'tenantry:lockout:')
    : memoryCounter();
  return {
    async attempt(key) {
      const { count, resetMs } = await counter.hit(key, windowMs);
      if (count > maxFailures) {
        throw new HttpTenancyError(
          'HTTP_ACCOUNT_LOCKED',
          'Too many failed sign-ins; the account is locked for a while',
          { details: { retryAfterSec: Math.max(1, Math.ceil(resetMs / 1000)) } },
        );
      }
      let settled = false;
      return {
        async settle(status) {
          if (settled) return;
          settled = true;
          if (status < 400) await counter.undo(key);
        },
      };
    },
  };
}
