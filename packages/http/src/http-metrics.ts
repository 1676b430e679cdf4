import { metrics } from '@opentelemetry/api';

type Counter = ReturnType<ReturnType<typeof metrics.getMeter>['createCounter']>;
let instruments: { provider: unknown; refusals: Counter } | undefined;

/** Names of the metrics `@tenantry/http` (and so both adapters) records. */
export const HttpMetricNames = {
  /**
   * Requests answered with an error, by `error.type` (the Tenantry code: `HTTP_TOKEN_INVALID`,
   * `TENANT_SUSPENDED`, `SUBSCRIPTION_PAST_DUE`, `HTTP_RATE_LIMITED`, …) and `http.response.status_code`.
   * No tenant id attribute: one series per code, whatever the number of tenants.
   */
  REFUSALS: 'tenantry.http.refusals',
} as const;

/**
 * The instruments of the global meter provider as it is now (re-made when the host registers its SDK
 * later; `@opentelemetry/api` has no proxy meter provider). A no-op without an SDK. @internal
 */
function httpInstruments(): { refusals: Counter } {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider !== provider) {
    const meter = provider.getMeter('@tenantry/http');
    instruments = {
      provider,
      refusals: meter.createCounter(HttpMetricNames.REFUSALS, {
        description: 'Requests answered with an error, by Tenantry error code',
        unit: '{request}',
      }),
    };
  }
  return instruments;
}

/** @internal Count one error answer. */
export function countRefusal(code: string, status: number): void {
  httpInstruments().refusals.add(1, { 'error.type': code, 'http.response.status_code': status });
}
