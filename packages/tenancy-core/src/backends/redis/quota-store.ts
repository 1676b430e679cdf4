import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RedisLike } from '../../kernel/drivers.js';
import {
  QuotaAmountSchema,
  QuotaConsumeRequestSchema,
  type QuotaConsumeRequest,
  type QuotaConsumeResult,
  type QuotaCounterRef,
  type QuotaStore,
} from '../../platform/quotas/quota-store.js';
import { TenantryError, isTenantryError } from '../../kernel/errors.js';
import { ValidationError, parseInput } from '../../kernel/validation.js';

// KEYS[1] counter; ARGV: amount, limit, ttl ms. Check and add in one script: atomic on the server.
const CONSUME = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if used + amount > tonumber(ARGV[2]) then return {0, used} end
used = redis.call('INCRBY', KEYS[1], amount)
if used == amount then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {1, used}
`;
// KEYS[1] counter; ARGV: amount. Never below zero, never creates a key.
const REFUND = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used == 0 then return 0 end
local next = used - tonumber(ARGV[1])
if next < 0 then next = 0 end
redis.call('SET', KEYS[1], next, 'KEEPTTL')
return next
`;

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const SHAS = new Map([CONSUME, REFUND].map((script) => [script, sha1(script)]));

/** The options of {@link RedisQuotaStore} besides the client. */
export const RedisQuotaStoreOptionsSchema = z
  .object({
    /** Prefix of every key, e.g. your app name. @default 'tenantry:quota:' */
    keyPrefix: z
      .string()
      .max(200)
      .regex(/^[^{}]*$/, 'must not contain { or }')
      .default('tenantry:quota:'),
  })
  .strict();
const UNREACHABLE =
  /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|Reached the max retries|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN/;

/** A Redis error as a Tenantry error; the driver's message stays in `cause`, never in the message. */
function redisError(error: unknown): TenantryError {
  if (isTenantryError(error)) return error;
  const message = String((error as Error | undefined)?.message ?? '');
  const name = String((error as Error | undefined)?.name ?? '');
  return UNREACHABLE.test(message) || name === 'MaxRetriesPerRequestError'
    ? new TenantryError('CORE_STORE_UNAVAILABLE', 'The Redis server could not be reached', { cause: error })
    : new TenantryError('CORE_STORE_FAILED', 'The Redis store failed', { cause: error });
}

/** Options of {@link RedisQuotaStore}: your client plus {@link RedisQuotaStoreOptionsSchema}. */
export type RedisQuotaStoreOptions = z.input<typeof RedisQuotaStoreOptionsSchema> & {
  /** Your ioredis `Redis` or `Cluster`; the store does not close it. */
  redis: RedisLike;
};

/**
 * Quota counters in Redis (or Redis Cluster): one key per (tenant, quota, window), named
 * `<prefix>{<tenant>:<quota>}:<windowStart>`, so a counter lives in one hash slot; consuming is one Lua
 * script (`EVALSHA`, falling back to `EVAL`), atomic on the server. Keys expire at the window's end plus
 * the grace period, computed from the application clock (a relative `PEXPIRE`, so server clocks do not
 * matter). Redis failover can lose acknowledged increments; quotas tolerate that (a few extra grants after
 * a failover), unlike gapless sequences.
 * @example const store = new RedisQuotaStore({ redis: new Redis(process.env.REDIS_URL) });
 */
export class RedisQuotaStore implements QuotaStore {
  readonly kind = 'redis';
  readonly #prefix: string;

  private readonly redis: RedisLike;

  constructor(options: RedisQuotaStoreOptions) {
    // Only an object is destructured: `...rest` of a string copies every character (10 MB → seconds).
    const { redis, ...rest } = (
      typeof options === 'object' && options !== null ? options : {}
    ) as RedisQuotaStoreOptions;
    if (typeof redis?.eval !== 'function') {
      throw new ValidationError('redis quota store options', [
        { path: ['redis'], message: 'must be an ioredis client' },
      ]);
    }
    this.redis = redis;
    this.#prefix = parseInput(RedisQuotaStoreOptionsSchema, rest, 'redis quota store options').keyPrefix;
  }

  /** The key of a counter: the hash tag covers tenant and quota. */
  key(ref: QuotaCounterRef): string {
    return `${this.#prefix}{${ref.tenantId}:${ref.quota}}:${ref.windowStart}`;
  }

  async #run(script: string, key: string, ...args: Array<string | number>): Promise<unknown> {
    try {
      try {
        return await this.redis.evalsha(SHAS.get(script) ?? sha1(script), 1, key, ...args);
      } catch (error) {
        if (!String((error as Error | undefined)?.message).includes('NOSCRIPT')) throw error;
        return await this.redis.eval(script, 1, key, ...args);
      }
    } catch (error) {
      throw redisError(error);
    }
  }

  async consume(request: QuotaConsumeRequest): Promise<QuotaConsumeResult> {
    const r = parseInput(QuotaConsumeRequestSchema, request, 'quota consume request');
    const ttl = Math.max(1000, r.expiresAt - r.now);
    const [granted, used] = (await this.#run(CONSUME, this.key(r), r.amount, r.limit, ttl)) as [
      number,
      number,
    ];
    return { granted: granted === 1, used: Number(used) };
  }

  async peek(ref: QuotaCounterRef): Promise<number> {
    try {
      return Number((await this.redis.get(this.key(ref))) ?? 0);
    } catch (error) {
      throw redisError(error);
    }
  }

  async refund(ref: QuotaCounterRef, amount: number): Promise<number> {
    parseInput(QuotaAmountSchema, amount, 'refund amount');
    return Number(await this.#run(REFUND, this.key(ref), amount));
  }
}
