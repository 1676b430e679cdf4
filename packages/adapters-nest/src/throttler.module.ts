import { ConfigurableModuleBuilder, type DynamicModule, type ExecutionContext, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import {
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  ThrottlerStorageService,
  getOptionsToken,
  getStorageToken,
} from '@nestjs/throttler';
import { ValidationError, parseInput } from '@tenantry/core';
import { clientIpKey } from '@tenantry/http';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { tenantryOf } from './request-state.js';

const NestLimitSchema = z.object({
  limit: z.number().int().positive(),
  ttlMs: z.number().int().positive(),
});

/** Settings of {@link TenancyThrottlerModule} `forRoot` / `forRootAsync` (besides the Redis client). */
export const TenancyThrottlerSettingsSchema = z.object({
  /** Per client IP, every request. @default { limit: 300, ttlMs: 60000 } */
  perIp: NestLimitSchema.default({ limit: 300, ttlMs: 60_000 }),
  /** Per verified tenant (per actor for tokens without tenant). @default { limit: 1200, ttlMs: 60000 } */
  perTenant: NestLimitSchema.default({ limit: 1200, ttlMs: 60_000 }),
  /** Prefix of the counters' keys. @default 'tenantry:rl:' */
  prefix: z.string().min(1).max(128).default('tenantry:rl:'),
});

/** Options of {@link TenancyThrottlerModule} `forRoot` / `forRootAsync`. */
export interface TenancyThrottlerOptions extends z.input<typeof TenancyThrottlerSettingsSchema> {
  /**
   * An ioredis client (or Cluster) holding the counters, so limits hold across every instance of the
   * app (`@nest-lab/throttler-storage-redis`). Without it, counters are per process (development only).
   */
  redis?: Redis;
}

// By @tenantry/http's clientIpKey (an IPv6 client by its /56), as the Express adapter keys its limits.
const ipOf = (req: Record<string, unknown>): string => {
  const ip = req.ip;
  return typeof ip === 'string' ? clientIpKey(ip) : 'unknown';
};

const what = 'TenancyThrottlerModule options';

/** Validate the options (zod for the limits, a shape check for the client); no side effect. */
function settingsOf(options: TenancyThrottlerOptions | undefined) {
  const { redis, ...rest } = (options ?? {}) as TenancyThrottlerOptions;
  const settings = parseInput(TenancyThrottlerSettingsSchema, rest, what);
  if (redis !== undefined && typeof (redis as { evalsha?: unknown }).evalsha !== 'function') {
    throw new ValidationError(what, [{ path: ['redis'], message: 'must be an ioredis client or cluster' }]);
  }
  return { settings, redis };
}

/** The `@nestjs/throttler` configuration (two named throttlers, the Redis storage) of validated options. */
function throttlerConfig(options: TenancyThrottlerOptions | undefined): ThrottlerModuleOptions {
  const { settings, redis } = settingsOf(options);
  const storage = redis === undefined ? undefined : new ThrottlerStorageRedisService(redis);
  if (storage && storage.redis !== redis) {
    // The storage took the client for options (another copy of ioredis than its own): refuse rather
    // than let it connect elsewhere.
    storage.onModuleDestroy();
    throw new ValidationError(what, [
      { path: ['redis'], message: 'must be a client of the same ioredis copy (deduplicate ioredis)' },
    ]);
  }
  const key = (_ctx: ExecutionContext, tracker: string, name: string) =>
    `${settings.prefix}${name}:${tracker}`;
  return {
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
  };
}

const built = new ConfigurableModuleBuilder<TenancyThrottlerOptions>().setClassMethodName('forRoot').build();

/** The injection token of the module options (for `forRootAsync`). */
export const TENANCY_THROTTLER_OPTIONS = built.MODULE_OPTIONS_TOKEN;

/**
 * Per-IP and per-tenant rate limits with `@nestjs/throttler` (a global `ThrottlerGuard`, counters in
 * Redis when `redis` is given). One window per client IP and one per verified tenant across all routes;
 * over the limit the answer is `HTTP_RATE_LIMITED` (429, problem+json, `Retry-After`). Import it after
 * `TenancyModule`, so the tenant is known when the limits are checked (on Fastify the tenant guard runs
 * first only then; an unauthenticated request counts for its IP only). Route-level `@Throttle()` and
 * `@SkipThrottle({ ip: true, tenant: true })` of `@nestjs/throttler` apply (throttler names `ip`, `tenant`).
 * `forRoot` validates the options at once; `forRootAsync` (ConfigurableModuleBuilder: `useFactory` +
 * `inject`, `useClass`, `useExisting`) when the app starts.
 * @throws `VALIDATION_FAILED` for malformed limits or client
 * @example
 * imports: [TenancyModule.forRoot({ ... }), TenancyThrottlerModule.forRoot({ redis, perTenant: { limit: 600, ttlMs: 60_000 } })]
 * TenancyThrottlerModule.forRootAsync({ inject: [ConfigService], useFactory: (c: ConfigService) => ({ redis: c.redis }) })
 */
export class TenancyThrottlerModule extends built.ConfigurableModuleClass {
  static override forRoot(options: TenancyThrottlerOptions = {}): DynamicModule {
    settingsOf(options);
    return built.ConfigurableModuleClass.forRoot.call(TenancyThrottlerModule, options ?? {});
  }
}
Module({
  providers: [
    { provide: getOptionsToken(), useFactory: throttlerConfig, inject: [TENANCY_THROTTLER_OPTIONS] },
    {
      // What ThrottlerModule provides: the configured storage, else its in-memory one.
      provide: getStorageToken(),
      useFactory: (o: ThrottlerModuleOptions) =>
        (!Array.isArray(o) && o.storage) || new ThrottlerStorageService(),
      inject: [getOptionsToken()],
    },
    { provide: APP_GUARD, useClass: ThrottlerGuard },
  ],
})(TenancyThrottlerModule);
