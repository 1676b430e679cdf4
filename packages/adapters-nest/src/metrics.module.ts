import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ConfigurableModuleBuilder,
  Controller,
  type DynamicModule,
  Get,
  Inject,
  Module,
  Req,
  Res,
  type Type,
} from '@nestjs/common';
import { parseInput } from '@tenantry/core';
import { z } from 'zod';
import { type MetricsEndpoint, type MetricsEndpointOptions, createMetricsEndpoint } from '@tenantry/http';
import { Public } from './tenancy.decorators.js';
import { RoutePathSchema } from './validation.js';

/** Options of {@link TenancyMetricsModule.forRoot}. */
export interface TenancyMetricsModuleOptions extends MetricsEndpointOptions {
  /** With `forRootAsync`, beside the factory. @default '/metrics' */
  path?: string;
}

const METRICS_ENDPOINT = Symbol.for('tenantry.nest.metrics');
const METRICS_OPTIONS = Symbol.for('tenantry.nest.metricsOptions');
const what = 'TenancyMetricsModule options';
const MetricsMountSchema = z.object({ path: RoutePathSchema.default('/metrics') });

const built = new ConfigurableModuleBuilder<MetricsEndpointOptions>({
  optionsInjectionToken: METRICS_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ path: '/metrics' }, (definition, extras) => ({
    ...definition,
    controllers: [metricsController(parseInput(MetricsMountSchema, extras, what).path)],
    providers: [
      ...(definition.providers ?? []),
      {
        provide: METRICS_ENDPOINT,
        useFactory: (o: MetricsEndpointOptions) => createMetricsEndpoint(o),
        inject: [METRICS_OPTIONS],
      },
    ],
  }))
  .build();

/**
 * `GET {path}`: Prometheus metrics from the host's OpenTelemetry SDK (`PrometheusExporter` with
 * `preventServerStart: true`, or any `collect()`), protected by a scrape token or the platform-staff role
 * (`createMetricsEndpoint` of `@tenantry/http`, as in `@tenantry/express`); refusals are problem+json.
 * `forRootAsync` takes `path` beside the factory, which returns the endpoint options (validated when the
 * app starts).
 * @throws `VALIDATION_FAILED` for malformed options, or without protection in production
 * @example
 * imports: [TenancyModule.forRoot({ ... }), TenancyMetricsModule.forRoot({ source: exporter, token: process.env.METRICS_TOKEN })]
 * TenancyMetricsModule.forRootAsync({ inject: [ConfigService], useFactory: (c: ConfigService) => ({ source: exporter, token: c.metricsToken }) })
 */
export class TenancyMetricsModule extends built.ConfigurableModuleClass {
  static override forRoot(options: TenancyMetricsModuleOptions): DynamicModule {
    const { path, ...rest } = (options ?? {}) as TenancyMetricsModuleOptions;
    parseInput(MetricsMountSchema, { path }, what);
    createMetricsEndpoint(rest);
    return built.ConfigurableModuleClass.forRoot.call(TenancyMetricsModule, options);
  }
}
Module({})(TenancyMetricsModule);

function metricsController(path: string): Type<unknown> {
  class MetricsController {
    constructor(private readonly endpoint: MetricsEndpoint) {}
    async scrape(req: object, res: object): Promise<void> {
      const raw = ((req as { raw?: IncomingMessage }).raw ?? req) as IncomingMessage;
      await this.endpoint.authorize(raw);
      // Fastify: the answer is written on the raw response, so Fastify must not send one.
      (res as { hijack?: () => void }).hijack?.();
      await this.endpoint.serve(raw, ((res as { raw?: ServerResponse }).raw ?? res) as ServerResponse);
    }
  }
  const proto = MetricsController.prototype;
  Req()(proto, 'scrape', 0);
  Res()(proto, 'scrape', 1);
  const desc = Object.getOwnPropertyDescriptor(proto, 'scrape') as PropertyDescriptor;
  for (const d of [Get(), Public() as MethodDecorator]) d(proto, 'scrape', desc);
  Inject(METRICS_ENDPOINT)(MetricsController, undefined, 0);
  Controller(path.replace(/^\/+/, ''))(MetricsController);
  return MetricsController;
}
