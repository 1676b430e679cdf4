import { type DynamicModule, type ExecutionContext, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { ValidationError, parseInput } from '@tenantry/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { tenantryOf } from './request-state.js';

const NestLimitSchema = z.object({
  limit: z.number().int().positive(),
  ttlMs: z.number().int().positive(),
});

/** Settings of {@link TenancyThrottlerModule.forRoot} (besides the Redis client). */
export const TenancyThrottlerSettingsSchema = z.object({
  /** Per client IP, every request. @default { limit: 300, ttlMs: 60000 } */
  perIp: NestLimitSchema.default({ limit: 300, ttlMs: 60_000 }),
  /** Per verified tenant (per actor for tokens without tenant). @default { limit: 1200, ttlMs: 60000 } */
  perTenant: NestLimitSchema.default({ limit: 1200, ttlMs: 60_000 }),
  /** Prefix of the counters' keys. @default 'tenantry:rl:' */
  prefix: z.string().min(1).max(128).default('tenantry:rl:'),
});

/** Options of {@link TenancyThrottlerModule.forRoot}. */
export interface TenancyThrottlerOptions extends z.input<typeof TenancyThrottlerSettingsSchema> {
  /**
   * An ioredis client (or Cluster) holding the counters, so limits hold across every instance of the
   * app (`@nest-lab/throttler-storage-redis`). Without it, counters are per process (development only).
   */
  redis?: Redis;
}

const ipOf = (req: Record<string, unknown>): string => {
  const ip = req.ip;
  return typeof ip === 'string' ? ip : 'unknown';
};

/**
 * Per-IP and per-tenant rate limits with `@nestjs/throttler` (a global `ThrottlerGuard`, counters in
 * Redis when `redis` is given). One window per client IP and one per verified tenant across all routes;
 * over the limit the answer is `HTTP_RATE_LIMITED` (429, problem+json, `Retry-After`). Import it after
 * `TenancyModule`, so the tenant is known when the limits are checked (on Fastify the tenant guard runs
 * first only then; an unauthenticated request counts for its IP only). Route-level `@Throttle()` and
 * `@SkipThrottle({ ip: true, tenant: true })` of `@nestjs/throttler` apply (throttler names `ip`, `tenant`).
 * @throws `VALIDATION_FAILED` for malformed limits
 * @example
 * imports: [TenancyModule.forRoot({ ... }), TenancyThrottlerModule.forRoot({ redis, perTenant: { limit: 600, ttlMs: 60_000 } })]
 */
export class TenancyThrottlerModule {
  static forRoot(options: TenancyThrottlerOptions = {}): DynamicModule {
    const { redis, ...rest } = (options ?? {}) as TenancyThrottlerOptions;
    const settings = parseInput(
      TenancyThrottlerSettingsSchema,
      rest,
      'TenancyThrottlerModule.forRoot options',
    );
    if (redis !== undefined && typeof (redis as { evalsha?: unknown }).evalsha !== 'function') {
      throw new ValidationError('TenancyThrottlerModule.forRoot options', [
        { path: ['redis'], message: 'must be an ioredis client or cluster' },
      ]);
    }
    const storage = redis === undefined ? undefined : new ThrottlerStorageRedisService(redis);
    if (storage && storage.redis !== redis) {
      // The storage took the client for options (another copy of ioredis than its own): refuse rather
      // than let it connect elsewhere.
      storage.onModuleDestroy();
      throw new ValidationError('TenancyThrottlerModule.forRoot options', [
        { path: ['redis'], message: 'must be a client of the same ioredis copy (deduplicate ioredis)' },
      ]);
    }
    const key = (_ctx: ExecutionContext, tracker: string, name: string) =>
      `${settings.prefix}${name}:${tracker}`;
    return {
      module: TenancyThrottlerModule,
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [
            {
              name: 'ip',
              limit: settings.perIp.limit,
              ttl: settings.perIp.ttlMs,
              getTracker: (req) => ipOf(req),
              generateKey: key,
            },
            {
              name: 'tenant',
              limit: settings.perTenant.limit,
              ttl: settings.perTenant.ttlMs,
              skipIf: (ctx) => tenantryOf(ctx.switchToHttp().getRequest<object>())?.identity === undefined,
              getTracker: (req) => {
                const identity = tenantryOf(req)?.identity;
                return identity?.tenantId ?? `actor:${identity?.actor.id ?? 'unknown'}`;
              },
              generateKey: key,
            },
          ],
          ...(storage ? { storage } : {}),
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    };
  }
}
Module({})(TenancyThrottlerModule);
