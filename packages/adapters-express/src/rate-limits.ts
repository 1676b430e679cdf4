import { createHash } from 'node:crypto';
import { ValidationError } from '@tenantry/core';
import { HttpTenancyError } from '@tenantry/http';
import type { Request, RequestHandler } from 'express';
import { type Options as RateLimitOptions, ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { z } from 'zod';
import { tenantryOf } from './request-state.js';

/** The ioredis method the shared limit store uses (`redis.call(...)`); an ioredis `Redis` or `Cluster` fits. */
export interface RedisCallLike {
  call(command: string, ...args: Array<string | number>): Promise<unknown>;
}

/** One limit: at most `limit` requests per `windowMs`. */
export const LimitSchema = z.object({
  limit: z.number().int().positive(),
  windowMs: z.number().int().positive(),
});

/** Options of the per-IP and per-tenant limits. */
export const RateLimitSettingsSchema = z.object({
  /** Per client IP, before authentication. @default { limit: 300, windowMs: 60000 } */
  perIp: LimitSchema.default({ limit: 300, windowMs: 60_000 }),
  /** Per tenant (per actor for tokens without tenant), after authentication. @default { limit: 1200, windowMs: 60000 } */
  perTenant: LimitSchema.default({ limit: 1200, windowMs: 60_000 }),
  /** Redis key prefix. @default 'tenantry:rl:' */
  prefix: z.string().min(1).default('tenantry:rl:'),
});

function store(redis: RedisCallLike | undefined, prefix: string): Partial<RateLimitOptions> {
  if (!redis) return {};
  return {
    store: new RedisStore({
      prefix,
      sendCommand: (...args: string[]) => redis.call(args[0] as string, ...args.slice(1)) as never,
    }),
  };
}

const limited =
  (code: 'HTTP_RATE_LIMITED' | 'HTTP_ACCOUNT_LOCKED', message: string): RateLimitOptions['handler'] =>
  (req, _res, next) => {
    const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
    const retryAfterSec = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : 60;
    next(new HttpTenancyError(code, message, { details: { retryAfterSec } }));
  };

/** @internal The per-IP limiter (express-rate-limit; a Redis store when `redis` is given). */
export function ipLimiter(
  settings: z.output<typeof RateLimitSettingsSchema>,
  redis: RedisCallLike | undefined,
): RequestHandler {
  return rateLimit({
    ...settings.perIp,
    ...store(redis, `${settings.prefix}ip:`),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: limited('HTTP_RATE_LIMITED', 'Too many requests from this address'),
  });
}

/** @internal The per-tenant limiter, keyed by the verified tenant (or actor). */
export function tenantLimiter(
  settings: z.output<typeof RateLimitSettingsSchema>,
  redis: RedisCallLike | undefined,
): RequestHandler {
  return rateLimit({
    ...settings.perTenant,
    ...store(redis, `${settings.prefix}tenant:`),
    standardHeaders: false,
    legacyHeaders: false,
    skip: (req) => tenantryOf(req)?.identity === undefined,
    keyGenerator: (req) => {
      const id = tenantryOf(req)?.identity;
      return id?.tenantId !== undefined ? `t:${id.tenantId}` : `a:${id?.actor.id ?? '-'}`;
    },
    handler: limited('HTTP_RATE_LIMITED', 'Too many requests for this tenant'),
  });
}

/** Options of {@link signInLockout}. */
export interface SignInLockoutOptions {
  /** The account a sign-in attempt is for (e.g. `req.body.email`); attempts without one are keyed by IP. */
  account(req: Request): string | undefined;
  /** Shared store, so the lockout holds across processes. Without it the count is per process. */
  redis?: RedisCallLike;
  /** Failed attempts allowed per window. @default 5 */
  maxFailures?: number;
  /** @default 900000 (15 minutes) */
  windowMs?: number;
  /** @default 'tenantry:lockout:' */
  prefix?: string;
}

function checkLockoutOptions(options: unknown): asserts options is SignInLockoutOptions {
  const fail = (path: PropertyKey[], message: string): never => {
    throw new ValidationError('signInLockout options', [{ path, message }]);
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    fail([], 'must be an object');
  const o = options as Record<string, unknown>;
  if (typeof o.account !== 'function') fail(['account'], 'must be a function');
  if (o.redis !== undefined && typeof (o.redis as { call?: unknown } | null)?.call !== 'function') {
    fail(['redis', 'call'], 'must be a function');
  }
  for (const key of ['maxFailures', 'windowMs'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)) {
      fail([key], 'must be a positive integer');
    }
  }
  if (o.prefix !== undefined && (typeof o.prefix !== 'string' || o.prefix === '' || o.prefix.length > 256)) {
    fail(['prefix'], 'must be a non-empty string of at most 256 characters');
  }
}

/**
 * Lock an account after repeated failed sign-ins: express-rate-limit counting only failed answers
 * (status ≥ 400) per account, in Redis when given. While locked, even the right password is refused
 * with `HTTP_ACCOUNT_LOCKED` (423). Account names are hashed before they become keys, so no e-mail
 * address lands in Redis. Put it on the sign-in route, after a body parser.
 * @example app.post('/auth/sign-in', signInLockout({ account: (req) => req.body?.email, redis }), signIn);
 */
export function signInLockout(options: SignInLockoutOptions): RequestHandler {
  checkLockoutOptions(options);
  const prefix = options.prefix ?? 'tenantry:lockout:';
  return rateLimit({
    limit: options.maxFailures ?? 5,
    windowMs: options.windowMs ?? 900_000,
    ...store(options.redis, prefix),
    skipSuccessfulRequests: true,
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: (req) => {
      const account = options.account(req);
      if (typeof account === 'string' && account.length > 0) {
        return `acct:${createHash('sha256').update(account.trim().toLowerCase()).digest('base64url')}`;
      }
      return `ip:${ipKeyGenerator(req.ip ?? '')}`;
    },
    handler: limited('HTTP_ACCOUNT_LOCKED', 'Too many failed sign-ins; the account is locked for a while'),
  });
}
