// The spans and metrics of requests, through OpenTelemetry's own SDK (BasicTracerProvider, MeterProvider)
// with its in-memory exporters, registered globally as a host registers it.
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createAuditLog } from '@tenantry/audit';
import { MemoryAuditSink } from '@tenantry/audit/memory';
import { createGatekeeper, directConfigSource, requireTenant } from '@tenantry/core';
import { createLockedSequencer, defineSeries } from '@tenantry/sequencer';
import { MemoryCounterStore, MemoryLockBackend } from '@tenantry/sequencer/memory';
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TenancyMiddleware, tenancy } from '../src/index.js';
import {
  AUTH,
  type OpenTelemetrySdk,
  bearer,
  histogramCounts,
  installOpenTelemetry,
  mint,
  seedTenants,
} from './helpers.js';

/**
 * What `@opentelemetry/instrumentation-http` does for a host (not installed here): a SERVER span per
 * request, active for the handlers, with the request's and response's event listeners bound to it.
 */
const serverSpan: RequestHandler = (req, res, next) => {
  const span = trace.getTracer('test-http-instrumentation').startSpan(`${req.method}`, {
    kind: SpanKind.SERVER,
  });
  const ctx = trace.setSpan(context.active(), span);
  context.bind(ctx, req);
  context.bind(ctx, res);
  res.once('close', () => span.end());
  context.with(ctx, next);
};

const numbered: number[] = [];
const invoices = defineSeries({ key: 'invoice' });

let sdk: OpenTelemetrySdk;
let app: express.Express;
let t: TenancyMiddleware;

beforeAll(async () => {
  sdk = installOpenTelemetry();
  // acme active and paid, umbrella suspended (provisioned in runAsSystem).
  const store = await seedTenants();
  const auditLog = createAuditLog({ sink: new MemoryAuditSink() });
  const lock = new MemoryLockBackend();
  const seq = createLockedSequencer({
    lock,
    store: new MemoryCounterStore(),
    highestCommitted: async () => (numbered.length === 0 ? null : Math.max(...numbered)),
  });
  t = tenancy({
    auth: AUTH,
    audit: auditLog.port,
    gatekeeper: createGatekeeper({ config: directConfigSource(store) }),
    rateLimit: false,
  });
  app = express();
  app.use(serverSpan);
  app.use(t);
  app.post('/ops/invoices', async (_req, res) => {
    const number = await seq.withNumber(invoices, {}, async (n) => {
      numbered.push(n.number);
      return n.number;
    });
    await auditLog.record({
      actor: requireTenant().actor,
      action: 'invoice.created',
      targets: [{ type: 'invoice', id: String(number) }],
      outcome: 'success',
    });
    res.status(201).json({ tenant: requireTenant().tenantId, number });
  });
  app.get('/ops/invoices', (_req, res) => {
    res.json([]);
  });
  app.use(t.errors);
});
afterAll(() => sdk.uninstall());

/** The finished spans, once the request's audit write (after the response) has ended too. */
async function spansAfter(last: string): Promise<ReadableSpan[]> {
  for (let i = 0; i < 100 && !sdk.spans.getFinishedSpans().some((s) => s.name === last); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return sdk.spans.getFinishedSpans();
}

describe('telemetry of one request through the OpenTelemetry SDK', () => {
  it('a request that allocates a number and writes an audit event: tenantry spans under the request span, tagged with the tenant, and its duration recorded', async () => {
    sdk.spans.reset();
    const res = await request(app)
      .post('/ops/invoices')
      .set(bearer(await mint({ tenantId: 'acme' })))
      .send({ total: 1 });
    expect([res.status, res.body]).toEqual([201, { tenant: 'acme', number: 1 }]);
    const spans = await spansAfter('tenantry.http.audit.write');
    const byName = (name: string) => spans.filter((s) => s.name === name);
    const one = (name: string): ReadableSpan => {
      const found = byName(name);
      expect(
        found.map((s) => s.name),
        `one ${name}`,
      ).toEqual([name]);
      return found[0] as ReadableSpan;
    };
    const server = one('POST');
    const verify = one('tenantry.http.token.verify');
    const gate = one('tenantry.core.gatekeeper.check');
    const allocate = one('tenantry.sequencer.allocate');
    const acquire = one('tenantry.sequencer.lock.acquire');
    const write = one('tenantry.http.audit.write');
    const records = byName('tenantry.audit.record');
    expect(records).toHaveLength(2); // the handler's event and the request's audit event

    // One trace; parent/child as the request ran.
    const id = (s: ReadableSpan) => s.spanContext().spanId;
    const parent = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    for (const s of spans) expect(s.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(parent(server)).toBeUndefined();
    for (const s of [verify, gate, allocate, write])
      expect([s.name, parent(s)]).toEqual([s.name, id(server)]);
    expect(parent(acquire)).toBe(id(allocate));
    const [inHandler, inRequestAudit] = [
      records.find((r) => parent(r) === id(server)),
      records.find((r) => parent(r) === id(write)),
    ];
    expect(inHandler?.attributes['tenantry.audit.action']).toBe('invoice.created');
    expect(inRequestAudit?.attributes['tenantry.audit.action']).toBeDefined();
    expect(inRequestAudit?.attributes['tenantry.audit.action']).not.toBe('invoice.created');
    // Each audit event's append to the sink runs under its record span.
    expect(byName('tenantry.audit.append').map(parent).sort()).toEqual(records.map(id).sort());

    // Every tenantry span carries the tenant, comes from its package's tracer, succeeded.
    const tenantry = spans.filter((s) => s.name.startsWith('tenantry.'));
    expect(tenantry.map((s) => s.name).sort()).toEqual([
      'tenantry.audit.append',
      'tenantry.audit.append',
      'tenantry.audit.record',
      'tenantry.audit.record',
      'tenantry.core.gatekeeper.check',
      'tenantry.http.audit.write',
      'tenantry.http.token.verify',
      'tenantry.sequencer.allocate',
      'tenantry.sequencer.lock.acquire',
    ]);
    for (const s of tenantry) {
      // A sink append is per batch, which may hold several tenants' events: a count, no tenant.
      const tenant = s.name === 'tenantry.audit.append' ? undefined : 'acme';
      expect([s.name, s.attributes['tenantry.tenant_id'], s.status.code]).toEqual([
        s.name,
        tenant,
        SpanStatusCode.UNSET,
      ]);
      expect(s.instrumentationScope.name).toBe(`@tenantry/${s.name.split('.')[1]}`);
    }
    expect(allocate.attributes).toMatchObject({
      'tenantry.sequencer.series': 'invoice',
      'tenantry.sequencer.count': 1,
    });

    const duration = await sdk.metric('http.server.request.duration');
    expect([duration?.descriptor.unit, duration?.dataPointType]).toEqual(['s', DataPointType.HISTOGRAM]);
    expect(histogramCounts(duration)).toContainEqual([
      { 'http.request.method': 'POST', 'http.route': '/ops/invoices', 'http.response.status_code': 201 },
      1,
    ]);
    // Seconds, not milliseconds: a fast local request sums to well under 5.
    const sum = (
      duration?.dataPoints.find((p) => p.attributes['http.route'] === '/ops/invoices')?.value as
        | { sum: number }
        | undefined
    )?.sum;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(5);
  });

  it('a forged token: the verify span carries the code, the refusal is counted, and the duration has no route', async () => {
    sdk.spans.reset();
    const forged = await request(app)
      .get('/ops/invoices')
      .set(bearer(await mint({ secret: 'another-secret-of-at-least-32-bytes!!' })));
    expect(forged.status).toBe(401);
    const spans = sdk.spans.getFinishedSpans();
    const verify = spans.find((s) => s.name === 'tenantry.http.token.verify');
    expect(verify?.attributes['error.type']).toBe('HTTP_TOKEN_INVALID');
    expect(verify?.status.code).toBe(SpanStatusCode.ERROR);
    // Never a message or a token in a span.
    expect(JSON.stringify(spans.map((s) => [s.attributes, s.status, s.events]))).not.toMatch(
      /eyJ|refused|signature/,
    );
    const refusals = await sdk.metric('tenantry.http.refusals');
    expect(refusals?.dataPoints.map((p) => [p.attributes, p.value])).toContainEqual([
      { 'error.type': 'HTTP_TOKEN_INVALID', 'http.response.status_code': 401 },
      1,
    ]);
    // Refused before routing: no http.route (never the raw path).
    expect(histogramCounts(await sdk.metric('http.server.request.duration'))).toContainEqual([
      { 'http.request.method': 'GET', 'http.response.status_code': 401 },
      1,
    ]);
  });

  it('a suspended tenant: the gatekeeper span says why, tagged with the tenant', async () => {
    sdk.spans.reset();
    const refused = await request(app)
      .get('/ops/invoices')
      .set(bearer(await mint({ tenantId: 'umbrella' })));
    expect(refused.body.code).toBe('TENANT_SUSPENDED');
    const gate = sdk.spans.getFinishedSpans().find((s) => s.name === 'tenantry.core.gatekeeper.check');
    expect(gate?.attributes).toMatchObject({ 'tenantry.tenant_id': 'umbrella', 'tenantry.access': 'read' });
  });

  it('no tenant id on the duration histogram by default; requestMetrics.tenantAttribute adds it; enabled: false records nothing', async () => {
    const durationPoints = async (route: string) =>
      histogramCounts(await sdk.metric('http.server.request.duration')).filter(
        ([a]) => a['http.route'] === route,
      );
    const withTenant = tenancy({
      auth: AUTH,
      audit: createAuditLog({ sink: new MemoryAuditSink() }).port,
      rateLimit: false,
      requestMetrics: { tenantAttribute: true },
    });
    const off = tenancy({
      auth: AUTH,
      audit: createAuditLog({ sink: new MemoryAuditSink() }).port,
      rateLimit: false,
      requestMetrics: { enabled: false },
    });
    const small = express();
    small.get('/ops/with-tenant', withTenant, (_req, res) => {
      res.json({});
    });
    small.get('/ops/off', off, (_req, res) => {
      res.json({});
    });
    await request(app)
      .get('/ops/invoices')
      .set(bearer(await mint({ tenantId: 'acme' })));
    await request(small)
      .get('/ops/with-tenant')
      .set(bearer(await mint({ tenantId: 'acme' })));
    await request(small)
      .get('/ops/off')
      .set(bearer(await mint({ tenantId: 'acme' })));
    const byDefault = await durationPoints('/ops/invoices');
    expect(byDefault.length).toBeGreaterThan(0);
    for (const [attributes] of byDefault) expect(attributes).not.toHaveProperty('tenantry.tenant_id');
    expect(await durationPoints('/ops/with-tenant')).toEqual([
      [
        {
          'http.request.method': 'GET',
          'http.route': '/ops/with-tenant',
          'http.response.status_code': 200,
          'tenantry.tenant_id': 'acme',
        },
        1,
      ],
    ]);
    expect(await durationPoints('/ops/off')).toEqual([]);
  });
});
