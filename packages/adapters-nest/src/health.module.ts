import {
  type BeforeApplicationShutdown,
  ConfigurableModuleBuilder,
  type DynamicModule,
  Get,
  HttpCode,
  Inject,
  Module,
  Res,
  Controller,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ValidationError, parseInput } from '@tenantry/core';
import { type ReadinessChecks, checkReadiness } from '@tenantry/http';
import { z } from 'zod';
import { Public } from './tenancy.decorators.js';
import { RoutePathSchema } from './validation.js';

/** Options of {@link TenancyHealthModule.forRoot}. */
export interface TenancyHealthModuleOptions {
  /** The stores `/health/ready` checks (PostgreSQL pool, ioredis client, MongoDB `Db`, custom checks). */
  readiness?: ReadinessChecks;
  /** Where the probes live (with `forRootAsync`, beside the factory). @default '/health' */
  path?: string;
}

const HEALTH_OPTIONS = Symbol.for('tenantry.nest.health');
const what = 'TenancyHealthModule options';

/** The serialisable part (zod); the checks are the host's objects, checked for shape. */
const HealthMountSchema = z.object({ path: RoutePathSchema.default('/health') });

function checkReadinessOption(options: unknown): TenancyHealthModuleOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(what, [{ path: [], message: 'must be an object' }]);
  }
  const readiness = (options as TenancyHealthModuleOptions).readiness;
  if (readiness !== undefined && (typeof readiness !== 'object' || readiness === null)) {
    throw new ValidationError(what, [{ path: ['readiness'], message: 'must be an object' }]);
  }
  return options as TenancyHealthModuleOptions;
}

const built = new ConfigurableModuleBuilder<Omit<TenancyHealthModuleOptions, 'path'>>({
  optionsInjectionToken: HEALTH_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ path: '/health' }, (definition, extras) => ({
    ...definition,
    controllers: [healthController(parseInput(HealthMountSchema, extras, what).path)],
  }))
  .build();

/**
 * `GET {path}/live` (200 `{ status: 'ok' }` while the process serves) and `GET {path}/ready` (200 when every
 * configured store answers, else 503 with each check `up`/`down`; 503 as soon as shutdown begins, so a
 * load balancer stops sending requests while those in flight finish). Public (no token), the same logic
 * as `@tenantry/express`'s probes (`checkReadiness` of `@tenantry/http`). Use with
 * `app.enableShutdownHooks()`. `forRootAsync` takes `path` beside the factory, which returns `{ readiness }`.
 * @throws `VALIDATION_FAILED` for a malformed `path` or `readiness`
 * @example
 * imports: [TenancyModule.forRoot({ ... }), TenancyHealthModule.forRoot({ readiness: { postgres: pool, redis } })]
 * TenancyHealthModule.forRootAsync({ inject: [Stores], useFactory: (s: Stores) => ({ readiness: { postgres: s.pool } }) })
 */
export class TenancyHealthModule extends built.ConfigurableModuleClass {
  static override forRoot(options: TenancyHealthModuleOptions = {}): DynamicModule {
    return built.ConfigurableModuleClass.forRoot.call(TenancyHealthModule, checkReadinessOption(options));
  }
}
Module({})(TenancyHealthModule);

function healthController(path: string): Type<unknown> {
  class HealthController implements BeforeApplicationShutdown {
    #shuttingDown = false;
    private readonly options: TenancyHealthModuleOptions;
    constructor(
      options: unknown,
      private readonly adapterHost: HttpAdapterHost,
    ) {
      // forRootAsync: the factory's answer is checked when the app starts.
      this.options = checkReadinessOption(options);
    }
    live(): { status: 'ok' } {
      return { status: 'ok' };
    }
    async ready(res: object): Promise<void> {
      const r = this.#shuttingDown
        ? { ready: false, checks: { shutdown: 'down' as const } }
        : await checkReadiness(this.options.readiness ?? {});
      const adapter = this.adapterHost.httpAdapter;
      adapter.setHeader(res, 'content-type', 'application/json; charset=utf-8');
      adapter.setHeader(res, 'cache-control', 'no-store');
      adapter.reply(
        res,
        JSON.stringify({ status: r.ready ? 'ready' : 'unavailable', checks: r.checks }),
        r.ready ? 200 : 503,
      );
    }
    beforeApplicationShutdown(): void {
      this.#shuttingDown = true;
    }
  }
  const proto = HealthController.prototype;
  const decorate = (name: 'live' | 'ready', decorators: MethodDecorator[]) => {
    const desc = Object.getOwnPropertyDescriptor(proto, name) as PropertyDescriptor;
    for (const d of decorators) d(proto, name, desc);
  };
  decorate('live', [Get('live'), HttpCode(200), Public() as MethodDecorator]);
  Res()(proto, 'ready', 0);
  decorate('ready', [Get('ready'), Public() as MethodDecorator]);
  Inject(HEALTH_OPTIONS)(HealthController, undefined, 0);
  Inject(HttpAdapterHost)(HealthController, undefined, 1);
  Controller(path.replace(/^\/+/, ''))(HealthController);
  return HealthController;
}
