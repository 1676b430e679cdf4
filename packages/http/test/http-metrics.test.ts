// http.server.request.duration as the shared layer records it (both adapters call timeRequest), read
// through OpenTelemetry's SDK MeterProvider with its in-memory exporter.
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { MemoryAuditPort } from '@tenantry/core';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpMetricNames, type HttpTenancyOptions, createHttpTenancy } from '../src/index.js';
import { AUDIENCE, ISSUER, SECRET } from './helpers.js';

const options = (over: Partial<HttpTenancyOptions> = {}): HttpTenancyOptions => ({
  auth: { key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE },
  audit: new MemoryAuditPort(),
  ...over,
});

/** The timer the adapter would get; with an SDK installed it must exist. */
function timed(http: ReturnType<typeof createHttpTenancy>, method: string) {
  const timer = http.timeRequest(method);
  if (timer === undefined) throw new Error('no timer although an SDK is installed');
  return timer;
}

let provider: MeterProvider | undefined;
afterEach(async () => {
  metrics.disable();
  await provider?.shutdown();
  provider = undefined;
});

/** Register the SDK as a host does; `points()` collects the duration histogram now. */
function installSdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  return {
    async points(): Promise<Array<DataPoint<Histogram>>> {
      exporter.reset();
      await reader.forceFlush();
      const all = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
      const m = all.find((x) => x.descriptor.name === HttpMetricNames.REQUEST_DURATION);
      if (m) expect([m.descriptor.unit, m.dataPointType]).toEqual(['s', DataPointType.HISTOGRAM]);
      return (m?.dataPoints ?? []) as Array<DataPoint<Histogram>>;
    },
  };
}

describe('http.server.request.duration', () => {
  it('costs nothing without an SDK: no timer for the adapter to keep or call', () => {
    const http = createHttpTenancy(options());
    expect([http.timeRequest('GET'), http.timeRequest('POST')]).toEqual([undefined, undefined]);
    installSdk();
    expect(http.timeRequest('GET')).toBeTypeOf('function');
  });

  it('records seconds with the semantic-convention attributes, bounded: _OTHER methods, no raw path, error.type for 5xx and cut responses', async () => {
    const sdk = installSdk();
    const http = createHttpTenancy(options());
    const timer = timed(http, 'get');
    await new Promise((r) => setTimeout(r, 30));
    timer({ route: '/ops/invoices/:id', status: 200, finished: true, tenantId: 'acme' });
    timed(http, 'PURGE')({ route: undefined, status: 404, finished: true });
    timed(http, 'POST')({ route: '/ops/invoices', status: 503, finished: true });
    timed(http, 'PUT')({ route: '/ops/invoices/:id', status: 200, finished: false });
    const points = await sdk.points();
    expect(points.map((p) => [p.attributes, p.value.count])).toEqual([
      [
        { 'http.request.method': 'GET', 'http.response.status_code': 200, 'http.route': '/ops/invoices/:id' },
        1,
      ],
      [{ 'http.request.method': '_OTHER', 'http.response.status_code': 404 }, 1],
      [
        {
          'http.request.method': 'POST',
          'http.response.status_code': 503,
          'http.route': '/ops/invoices',
          'error.type': '503',
        },
        1,
      ],
      [
        {
          'http.request.method': 'PUT',
          'http.response.status_code': 200,
          'http.route': '/ops/invoices/:id',
          'error.type': 'aborted',
        },
        1,
      ],
    ]);
    // Seconds: the 30 ms wait is about 0.03, not 30.
    const waited = points[0]?.value.sum ?? Number.NaN;
    expect(waited).toBeGreaterThanOrEqual(0.025);
    expect(waited).toBeLessThan(5);
    // The semantic conventions' advised buckets (seconds), not the SDK's millisecond-sized defaults.
    expect(points[0]?.value.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
  });

  it('adds the tenant only with requestMetrics.tenantAttribute, and gives no timer with enabled: false', async () => {
    const sdk = installSdk();
    timed(
      createHttpTenancy(options({ requestMetrics: { tenantAttribute: true } })),
      'GET',
    )({
      route: '/a',
      status: 200,
      finished: true,
      tenantId: 'acme',
    });
    const off = createHttpTenancy(options({ requestMetrics: { enabled: false } }));
    expect(off.timeRequest('GET')).toBeUndefined();
    expect((await sdk.points()).map((p) => p.attributes)).toEqual([
      {
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        'http.route': '/a',
        'tenantry.tenant_id': 'acme',
      },
    ]);
  });

  it('picks up an SDK registered after the layer was built (the API has no proxy meter provider)', async () => {
    const http = createHttpTenancy(options());
    expect(http.timeRequest('GET')).toBeUndefined();
    const sdk = installSdk();
    timed(http, 'GET')({ route: '/after', status: 200, finished: true });
    expect((await sdk.points()).map((p) => p.attributes['http.route'])).toEqual(['/after']);
  });
});
