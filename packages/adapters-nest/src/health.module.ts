import {
  type BeforeApplicationShutdown,
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
import { ValidationError } from '@tenantry/core';
import { type ReadinessChecks, checkReadiness } from '@tenantry/http';
import { Public } from './tenancy.decorators.js';

/** Options of {@link TenancyHealthModule.forRoot}. */
export interface TenancyHealthModuleOptions {
  /** The stores `/health/ready` checks (PostgreSQL pool, ioredis client, MongoDB `Db`, custom checks). */
  readiness?: ReadinessChecks;
  /** Where the probes live. @default '/health' */
  path?: string;
}

const HEALTH_OPTIONS = Symbol.for('tenantry.nest.health');

/**
 * `GET {path}/live` (200 `{ status: 'ok' }` while the process serves) and `GET {path}/ready` (200 when every
 * configured store answers, else 503 with each check `up`/`down`; 503 as soon as shutdown begins, so a
 * load balancer stops sending requests while those in flight finish). Public (no token), the same logic
 * as `@tenantry/express`'s probes (`checkReadiness` of `@tenantry/http`). Use with
 * `app.enableShutdownHooks()`.
 * @throws `VALIDATION_FAILED` for a malformed `path` or `readiness`
 * @example
 * imports: [TenancyModule.forRoot({ ... }), TenancyHealthModule.forRoot({ readiness: { postgres: pool, redis } })]
 */
export class TenancyHealthModule {
  static forRoot(options: TenancyHealthModuleOptions = {}): DynamicModule {
    const what = 'TenancyHealthModule.forRoot options';
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new ValidationError(what, [{ path: [], message: 'must be an object' }]);
    }
    const path = options.path ?? '/health';
    if (typeof path !== 'string' || !/^\/[A-Za-z0-9._/-]*$/.test(path) || path.length > 256) {
      throw new ValidationError(what, [{ path: ['path'], message: 'must be a path starting with /' }]);
    }
    // Probe the checks' shape now (an empty object probes nothing).
    if (
      options.readiness !== undefined &&
      (typeof options.readiness !== 'object' || options.readiness === null)
    ) {
      throw new ValidationError(what, [{ path: ['readiness'], message: 'must be an object' }]);
    }
    return {
      module: TenancyHealthModule,
      controllers: [healthController(path)],
      providers: [{ provide: HEALTH_OPTIONS, useValue: options }],
    };
  }
}
Module({})(TenancyHealthModule);

function healthController(path: string): Type<unknown> {
  class HealthController implements BeforeApplicationShutdown {
    #shuttingDown = false;
    constructor(
      private readonly options: TenancyHealthModuleOptions,
      private readonly adapterHost: HttpAdapterHost,
    ) {}
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
