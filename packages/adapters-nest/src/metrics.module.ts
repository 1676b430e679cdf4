import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, type DynamicModule, Get, Inject, Module, Req, Res, type Type } from '@nestjs/common';
import { ValidationError } from '@tenantry/core';
import { type MetricsEndpoint, type MetricsEndpointOptions, createMetricsEndpoint } from '@tenantry/http';
import { Public } from './tenancy.decorators.js';

/** Options of {@link TenancyMetricsModule.forRoot}. */
export interface TenancyMetricsModuleOptions extends MetricsEndpointOptions {
  /** @default '/metrics' */
  path?: string;
}

const METRICS_ENDPOINT = Symbol.for('tenantry.nest.metrics');

/**
 * `GET {path}`: Prometheus metrics from the host's OpenTelemetry SDK (`PrometheusExporter` with
 * `preventServerStart: true`, or any `collect()`), protected by a scrape token or the platform-staff role
 * (`createMetricsEndpoint` of `@tenantry/http`, as in `@tenantry/express`); refusals are problem+json.
 * @throws `VALIDATION_FAILED` for malformed options, or without protection in production
 * @example
 * imports: [TenancyModule.forRoot({ ... }), TenancyMetricsModule.forRoot({ source: exporter, token: process.env.METRICS_TOKEN })]
 */
export class TenancyMetricsModule {
  static forRoot(options: TenancyMetricsModuleOptions): DynamicModule {
    const { path = '/metrics', ...rest } = (options ?? {}) as TenancyMetricsModuleOptions;
    if (typeof path !== 'string' || !/^\/[A-Za-z0-9._/-]*$/.test(path) || path.length > 256) {
      throw new ValidationError('TenancyMetricsModule.forRoot options', [
        { path: ['path'], message: 'must be a path starting with /' },
      ]);
    }
    const endpoint = createMetricsEndpoint(rest);
    return {
      module: TenancyMetricsModule,
      controllers: [metricsController(path)],
      providers: [{ provide: METRICS_ENDPOINT, useValue: endpoint }],
    };
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
