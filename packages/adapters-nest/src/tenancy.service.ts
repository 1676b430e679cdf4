import type { OnApplicationShutdown } from '@nestjs/common';
import { type JobContextCodec, TenantryError, ValidationError, noopAuditPort } from '@tenantry/core';
import type { HelmetOptions } from 'helmet';
import {
  type CorsSettingsSchema,
  type HttpTenancy,
  type HttpTenancyOptions,
  createHttpTenancy,
} from '@tenantry/http';
import type { z } from 'zod';
import { registerJobCodec } from './job-codec-registry.js';

/** Options of `TenancyModule.forRoot` / `forRootAsync`: those of `@tenantry/http`, plus jobs and shutdown. */
export interface TenancyModuleOptions extends HttpTenancyOptions {
  /** Core's signed job-context codec, used by `@WithTenant()` and `TenancyService.capture()`. */
  jobCodec?: JobContextCodec;
  /** Closed on application shutdown, after the audit port is flushed (a config cache, pools Tenantry uses). */
  closeOnShutdown?: ReadonlyArray<{ close(): unknown } | (() => unknown)>;
  /**
   * Helmet's security headers on every answer (CSP, HSTS, no `X-Powered-By`, …); helmet's options, or
   * `false` to leave headers to the app.
   * @default true
   */
  helmet?: boolean | HelmetOptions;
  /**
   * CORS, off unless origins are listed: `{ origins, credentials?, maxAgeSec? }` (`@tenantry/http`'s
   * `CorsSettingsSchema`, as in `@tenantry/express`). Applied through the platform's `enableCors`; do not
   * also call `app.enableCors()`.
   */
  cors?: z.input<typeof CorsSettingsSchema>;
  /**
   * Largest request body on both platforms (bytes or `'100kb'`); a larger one is refused with
   * `HTTP_PAYLOAD_TOO_LARGE` (413, problem+json). `false` leaves the platform's limit (Fastify: 1 MiB).
   * On Express a value other than the default replaces Nest's JSON and urlencoded parsers (then
   * NestFactory's `rawBody` does not apply).
   * @default '100kb'
   */
  bodyLimit?: string | number | false;
}

/**
 * The shared HTTP layer as a Nest provider (a singleton, never request-scoped). Inject it by type.
 * On application shutdown it flushes the audit port and closes `closeOnShutdown`.
 */
export class TenancyService implements OnApplicationShutdown {
  /** Token verification, admission, problem mapping, request audit (from `@tenantry/http`). */
  readonly http: HttpTenancy;
  /** Whether mutating requests are audited (`false` only with core's `noopAuditPort`). */
  readonly auditsRequests: boolean;
  readonly #options: TenancyModuleOptions;
  /** The module options as given. */
  get options(): Readonly<TenancyModuleOptions> {
    return this.#options;
  }

  constructor(options: TenancyModuleOptions) {
    this.http = createHttpTenancy(options);
    const h = options.helmet;
    if (
      h !== undefined &&
      typeof h !== 'boolean' &&
      (typeof h !== 'object' || h === null || Array.isArray(h))
    ) {
      throw new ValidationError('TenancyModule options', [
        { path: ['helmet'], message: 'must be a boolean or helmet options' },
      ]);
    }
    this.#options = options;
    this.auditsRequests = options.audit !== noopAuditPort;
    registerJobCodec(options.jobCodec);
  }

  /** The current tenant context, signed, to put in a job payload as `tenantry`. @throws `TENANT_CONTEXT_MISSING` */
  capture(): ReturnType<JobContextCodec['capture']> {
    const codec = this.#options.jobCodec;
    if (!codec) throw new TenantryError('VALIDATION_FAILED', 'TenancyModule.forRoot has no jobCodec');
    return codec.capture();
  }

  async onApplicationShutdown(): Promise<void> {
    const audit = this.#options.audit as { flush?: () => unknown };
    if (typeof audit.flush === 'function') await audit.flush();
    for (const c of this.#options.closeOnShutdown ?? []) {
      if (typeof c === 'function') await c();
      else await c.close();
    }
  }
}
