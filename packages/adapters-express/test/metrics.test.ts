// The protected Prometheus endpoint (token or platform staff), the refusal counter and the request
// duration histogram, through OpenTelemetry's SDK (MeterProvider with an in-memory exporter).
import { type DataPoint, DataPointType, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { MemoryAuditPort, createGatekeeper, directConfigSource } from '@tenantry/core';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, metricsEndpoint, tenancy } from '../src/index.js';
import { AUTH, type OpenTelemetrySdk, bearer, installOpenTelemetry, mint, seedTenants } from './helpers.js';

const TOKEN = 'scrape-token-of-at-least-32-characters!!';
let sdk: OpenTelemetrySdk;
const labels = (attributes: Record<string, unknown>) =>
  Object.keys(attributes)
    .sort()
    .map((k) => `${k.replace(/\./g, '_')}="${String(attributes[k])}"`)
    .join(',');
/**
 * The SDK's metrics in the Prometheus text format, as far as this test reads it (counters and histogram
 * counts); what exporter-prometheus serves from the same reader in a host.
 */
const exposition = async () =>
  (await sdk.allMetrics())
    .flatMap((m: MetricData) => {
      const name = m.descriptor.name.replace(/\./g, '_');
      return m.dataPointType === DataPointType.HISTOGRAM
        ? (m.dataPoints as DataPoint<Histogram>[]).map(
            (p) => `${name}_seconds_count{${labels(p.attributes)}} ${p.value.count}`,
          )
        : m.dataPoints.map((p) => `${name}_total{${labels(p.attributes)}} ${String(p.value)}`);
    })
    .join('\n');

let app: express.Express;
beforeAll(async () => {
  sdk = installOpenTelemetry();
  const store = await seedTenants();
  const t = tenancy({
    auth: AUTH,
    audit: new MemoryAuditPort(),
    gatekeeper: createGatekeeper({ config: directConfigSource(store) }),
    rateLimit: false,
  });
  app = express();
  app.get('/metrics', metricsEndpoint({ source: { collect: exposition }, token: TOKEN }));
  app.get(
    '/staff-metrics',
    metricsEndpoint({
      source: { collect: exposition },
      staff: { verifier: createTokenVerifier(AUTH), roles: ['PLATFORM_ADMIN'] },
    }),
  );
  app.use(t);
  app.get('/ops/ping', (_req, res) => {
    res.json({ ok: true });
  });
  // Routers mounted under parameterized paths, nested.
  const orders = express.Router();
  orders.get('/orders', (_req, res) => {
    res.json({ ok: true });
  });
  const customers = express.Router();
  customers.use('/customers/:customer', orders);
  app.use('/ops', customers);
  app.use(t.errors);
});
afterAll(() => sdk.uninstall());

describe('metrics', () => {
  it('counts refusals by code and status, without a tenant attribute', async () => {
    await request(app).get('/ops/ping');
    await request(app)
      .get('/ops/ping')
      .set(bearer(await mint({ tenantId: 'umbrella' })));
    await request(app)
      .get('/ops/ping')
      .set(bearer(await mint({ tenantId: 'acme' })));
    const refusals = await sdk.metric('tenantry.http.refusals');
    expect(refusals?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'error.type': 'HTTP_TOKEN_MISSING', 'http.response.status_code': 401 }, 1],
      [{ 'error.type': 'TENANT_SUSPENDED', 'http.response.status_code': 403 }, 1],
    ]);
  });

  it('serves the scrape only with the token, problem+json otherwise', async () => {
    const none = await request(app).get('/metrics');
    expect([none.status, none.body.code]).toEqual([401, 'HTTP_TOKEN_MISSING']);
    expect(none.headers['content-type']).toMatch(/problem\+json/);
    const wrong = await request(app).get('/metrics').set('authorization', `Bearer ${TOKEN}x`);
    expect([wrong.status, wrong.body.code]).toEqual([401, 'HTTP_TOKEN_INVALID']);
    const tenantJwt = await request(app)
      .get('/metrics')
      .set(bearer(await mint()));
    expect(tenantJwt.status).toBe(401);
    const ok = await request(app).get('/metrics').set('authorization', `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
    // Two by now: the first test's request and this test's first scrape.
    expect(ok.text).toContain(
      'tenantry_http_refusals_total{error_type="HTTP_TOKEN_MISSING",http_response_status_code="401"} 2',
    );
    // The request duration histogram of the adapter is in the same scrape (by route, not by tenant).
    expect(ok.text).toContain(
      'http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/ops/ping"} 1',
    );
    expect(ok.text).not.toContain('tenant_id');
  });

  it('labels requests through mounted routers with their patterns, never with path values or casing', async () => {
    const user = bearer(await mint());
    for (const path of [
      '/ops/customers/alice@example.com/orders',
      '/ops/customers/bob@example.com/orders',
      '/OPS/Customers/carol/orders',
    ]) {
      expect((await request(app).get(path).set(user)).status).toBe(200);
    }
    const scrape = (await request(app).get('/metrics').set('authorization', `Bearer ${TOKEN}`)).text;
    expect(scrape).toContain(
      'http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/ops/customers/:customer/orders"} 3',
    );
    expect(scrape).not.toMatch(/example\.com|carol|OPS|Customers/);
  });

  it('serves platform staff (verified JWT, no tenant, staff role) and refuses tenant users', async () => {
    const staff = await request(app)
      .get('/staff-metrics')
      .set(bearer(await mint({ tenantId: null, roles: ['PLATFORM_ADMIN'] })));
    expect(staff.status).toBe(200);
    const tenantAdmin = await request(app)
      .get('/staff-metrics')
      .set(bearer(await mint({ tenantId: 'acme', roles: ['PLATFORM_ADMIN'] })));
    expect([tenantAdmin.status, tenantAdmin.body.code]).toEqual([403, 'PERMISSION_DENIED']);
    const forged = await request(app)
      .get('/staff-metrics')
      .set(
        bearer(
          await mint({
            tenantId: null,
            roles: ['PLATFORM_ADMIN'],
            secret: 'another-secret-of-at-least-32-bytes!!',
          }),
        ),
      );
    expect([forged.status, forged.body.code]).toEqual([401, 'HTTP_TOKEN_INVALID']);
  });

  it('refuses an unprotected endpoint in production and malformed options', () => {
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(() => metricsEndpoint({ source: { collect: () => '' }, allowUnprotected: true })).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
    } finally {
      process.env.NODE_ENV = env;
    }
    expect(() => metricsEndpoint({ source: { collect: () => '' } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => metricsEndpoint({ source: { collect: () => '' }, token: 'short' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => metricsEndpoint({ source: {} as never, token: TOKEN })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });
});
