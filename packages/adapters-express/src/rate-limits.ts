import { ValidationError } from '@tenantry/core';
import {
  HttpTenancyError,
  type RedisCallLike,
  type SignInLockoutSettings,
  clientIpKey,
  createSignInLockout,
  lockoutKey,
} from '@tenantry/http';
import type { Request, RequestHandler } from 'express';
import { type Options as RateLimitOptions, rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { z } from 'zod';
import { tenantryOf } from './request-state.js';

export type { RedisCallLike };

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
  (code: 'HTTP_RATE_LIMITED', message: string): RateLimitOptions['handler'] =>
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

/** Options of {@link signInLockout}: the shared lockout settings of `@tenantry/http`, plus the account reader. */
export interface SignInLockoutOptions extends SignInLockoutSettings {
  /** The account a sign-in attempt is for (e.g. `req.body.email`); attempts without one are keyed by IP. */
  account(req: Request): string | undefined;
}

/**
 * Lock an account after repeated failed sign-ins (`createSignInLockout` of `@tenantry/http`, shared with
 * `@tenantry/nest`): only failed answers (status ≥ 400) count, per account, in Redis when given. While
 * locked, even the right password is refused with `HTTP_ACCOUNT_LOCKED` (423). Account names are hashed
 * before they become keys, so no e-mail address lands in Redis. Put it on the sign-in route, after a body
 * parser.
 * @throws `VALIDATION_FAILED` for malformed options
 * @example app.post('/auth/sign-in', signInLockout({ account: (req) => req.body?.email, redis }), signIn);
 */
export function signInLockout(options: SignInLockoutOptions): RequestHandler {
  const what = 'signInLockout options';
  // Validates the shared settings (and that options is an object); `account` is ours to check.
  const lockout = createSignInLockout(options, what);
  const account = (options as { account?: unknown }).account;
  if (typeof account !== 'function') {
    throw new ValidationError(what, [{ path: ['account'], message: 'must be a function' }]);
  }
  return (req, res, next) => {
    lockout.attempt(lockoutKey(options.account(req), clientIpKey(req.ip ?? 'unknown'))).then((attempt) => {
      // Settled when the answer is sent; an aborted request stays counted as a failure.
      res.once('finish', () => {
        attempt.settle(res.statusCode).catch(() => undefined);
      });
      next();
    }, next);
  };
}
