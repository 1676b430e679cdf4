// The protected Prometheus endpoint (token or platform staff) and the refusal counter, through a meter
// provider registered with @opentelemetry/api (the SDK needs Node 22.15 beside api 1.10, see README).
import {
  type Attributes,
  type Counter,
  type Meter,
  type MeterProvider,
  createNoopMeter,
  metrics,
} from '@opentelemetry/api';
import { MemoryAuditPort, createGatekeeper, directConfigSource } from '@tenantry/core';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, metricsEndpoint, tenancy } from '../src/index.js';
import { AUTH, bearer, mint, seedTenants } from './helpers.js';

const adds: Array<{ name: string; value: number; attributes: Attributes }> = [];
const provider: MeterProvider = {
  getMeter: (): Meter => {
    const noop = createNoopMeter();
    return Object.assign(Object.create(noop) as Meter, {
      createCounter: (name: string): Counter => ({
        add: (value: number, attributes: Attributes = {}) => {
          adds.push({ name, value, attributes });
        },
      }),
    });
  },
};
const TOKEN = 'scrape-token-of-at-least-32-characters!!';
const exposition = () =>
  adds
    .map(
      (a) => `${a.name.replace(/\./g, '_')}{error_type="${String(a.attributes['error.type'])}"} ${a.value}`,
    )
    .join('\n');

let app: express.Express;
beforeAll(async () => {
  metrics.setGlobalMeterProvider(provider);
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
  app.use(t.errors);
});
afterAll(() => metrics.disable());

describe('metrics', () => {
  it('counts refusals by code and status, without a tenant attribute', async () => {
    await request(app).get('/ops/ping');
    await request(app)
      .get('/ops/ping')
      .set(bearer(await mint({ tenantId: 'umbrella' })));
    await request(app)
      .get('/ops/ping')
      .set(bearer(await mint({ tenantId: 'acme' })));
    const refusals = adds.filter((a) => a.name === 'tenantry.http.refusals');
    expect(
      refusals.map((a) => [a.attributes['error.type'], a.attributes['http.response.status_code']]),
    ).toEqual([
      ['HTTP_TOKEN_MISSING', 401],
      ['TENANT_SUSPENDED', 403],
    ]);
    for (const a of refusals)
      expect(Object.keys(a.attributes).sort()).toEqual(['error.type', 'http.response.status_code']);
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
    expect(ok.text).toContain('tenantry_http_refusals{error_type="HTTP_TOKEN_MISSING"} 1');
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
