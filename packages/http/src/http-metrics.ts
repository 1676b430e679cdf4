import { type Attributes, createNoopMeter, metrics } from '@opentelemetry/api';
import { TelemetryAttributes } from '@tenantry/core';

type Meter = ReturnType<typeof metrics.getMeter>;
type Counter = ReturnType<Meter['createCounter']>;
type Histogram = ReturnType<Meter['createHistogram']>;
let instruments: { provider: unknown; refusals: Counter; duration: Histogram } | undefined;

/** Names of the metrics `@tenantry/http` (and so both adapters) records. */
export const HttpMetricNames = {
  /**
   * Requests answered with an error, by `error.type` (the Tenantry code: `HTTP_TOKEN_INVALID`,
   * `TENANT_SUSPENDED`, `SUBSCRIPTION_PAST_DUE`, `HTTP_RATE_LIMITED`, …) and `http.response.status_code`.
   * No tenant id attribute: one series per code, whatever the number of tenants.
   */
  REFUSALS: 'tenantry.http.refusals',
  /**
   * OpenTelemetry's semantic-convention histogram of server request durations, in seconds (unit `s`),
   * by `http.request.method` (`_OTHER` for non-standard methods), `http.route` (the matched route
   * template; absent when no route matched, so unknown paths make no series), `http.response.status_code`
   * and, for 5xx answers and responses cut before they finished, `error.type` (the status code, or
   * `aborted`). No tenant id unless `requestMetrics.tenantAttribute` is on.
   */
  REQUEST_DURATION: 'http.server.request.duration',
} as const;

/** The bucket boundaries the semantic conventions advise for `http.server.request.duration` (seconds). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** The methods the semantic conventions name; any other becomes `_OTHER` (bounded cardinality). */
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);
/**
 * What a meter of the API's no-op provider returns: the API hands out one shared no-op histogram, so
 * identity tells "no SDK installed" apart without a private API.
 */
const NOOP_HISTOGRAM = createNoopMeter().createHistogram(HttpMetricNames.REQUEST_DURATION);

/**
 * The instruments of the global meter provider as it is now (re-made when the host registers its SDK
 * later; `@opentelemetry/api` has no proxy meter provider). No-ops without an SDK. @internal
 */
function httpInstruments(): { refusals: Counter; duration: Histogram } {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider !== provider) {
    const meter = provider.getMeter('@tenantry/http');
    instruments = {
      provider,
      refusals: meter.createCounter(HttpMetricNames.REFUSALS, {
        description: 'Requests answered with an error, by Tenantry error code',
        unit: '{request}',
      }),
      duration: meter.createHistogram(HttpMetricNames.REQUEST_DURATION, {
        description: 'Duration of HTTP server requests.',
        unit: 's',
        // Ignored by SDKs older than API 1.7's advice; they use their default buckets.
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      }),
    };
  }
  return instruments;
}

/** @internal Count one error answer. */
export function countRefusal(code: string, status: number): void {
  httpInstruments().refusals.add(1, { 'error.type': code, 'http.response.status_code': status });
}

/** How a timed request ended, reported by the adapter when the response is done. */
export interface RequestOutcome {
  /** The matched route template (`/ops/invoices/:id`), or `undefined` when no route matched (never the raw path). */
  route: string | undefined;
  /** The status code sent. */
  status: number;
  /** `false` when the connection closed before the response finished (client gone, socket error). */
  finished: boolean;
  /** The request's tenant, used only when `requestMetrics.tenantAttribute` is on. */
  tenantId?: string | undefined;
}

/** Records one request's duration; call it once. */
export type RequestTimer = (outcome: RequestOutcome) => void;

/**
 * @internal Start timing a request (`http.server.request.duration`). `undefined` when no SDK is
 * installed, so an app without one pays no clock reads, closures or attribute objects.
 */
export function startRequestTimer(method: string, tenantAttribute: boolean): RequestTimer | undefined {
  const { duration } = httpInstruments();
  if (duration === NOOP_HISTOGRAM) return undefined;
  const started = performance.now();
  return (outcome) => {
    const seconds = (performance.now() - started) / 1000;
    const upper = method.toUpperCase();
    const attributes: Attributes = {
      'http.request.method': KNOWN_METHODS.has(upper) ? upper : '_OTHER',
      'http.response.status_code': outcome.status,
    };
    if (outcome.route !== undefined) attributes['http.route'] = outcome.route;
    if (!outcome.finished) attributes['error.type'] = 'aborted';
    else if (outcome.status >= 500) attributes['error.type'] = String(outcome.status);
    if (tenantAttribute && outcome.tenantId !== undefined) {
      attributes[TelemetryAttributes.TENANT_ID] = outcome.tenantId;
    }
    duration.record(seconds, attributes);
  };
}
