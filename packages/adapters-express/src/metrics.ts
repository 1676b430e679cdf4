import { type MetricsEndpointOptions, createMetricsEndpoint } from '@tenantry/http';
import type { RequestHandler } from 'express';

/**
 * A Prometheus scrape route protected by a token or the platform-staff role (`createMetricsEndpoint` of
 * `@tenantry/http`); the metrics come from the host's OpenTelemetry SDK (`PrometheusExporter` with
 * `preventServerStart: true`) or any `collect()`. Mount it before `tenancy()` (it needs no tenant), and
 * `t.errors` last: refusals are problem+json (`HTTP_TOKEN_MISSING`, `HTTP_TOKEN_INVALID`, `PERMISSION_DENIED`).
 * @throws `VALIDATION_FAILED` for malformed options, or without protection in production
 * @example
 * app.get('/metrics', metricsEndpoint({ source: exporter, token: process.env.METRICS_TOKEN as string }));
 * app.use(t);
 */
export function metricsEndpoint(options: MetricsEndpointOptions): RequestHandler {
  const endpoint = createMetricsEndpoint(options);
  return (req, res, next) => {
    endpoint.handle(req, res).catch(next);
  };
}
