// The spans of one request, recorded by a minimal in-memory tracer registered through
// @opentelemetry/api (the SDK's in-memory exporter is not installable beside api 1.10 here).
import {
  type Attributes,
  type AttributeValue,
  type Span,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { MemoryAuditPort, createGatekeeper, directConfigSource, requireTenant } from '@tenantry/core';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenancy } from '../src/index.js';
import { AUTH, bearer, mint, seedTenants } from './helpers.js';

interface Recorded {
  tracer: string;
  name: string;
  attributes: Record<string, AttributeValue>;
  status?: SpanStatus;
  ended: boolean;
}
const spans: Recorded[] = [];

function recordingSpan(rec: Recorded): Span {
  const span: Span = {
    spanContext: () => ({ traceId: `${'0'.repeat(31)}1`, spanId: `${'0'.repeat(15)}1`, traceFlags: 1 }),
    setAttribute: (k: string, v: AttributeValue) => {
      rec.attributes[k] = v;
      return span;
    },
    setAttributes: (a: Attributes) => {
      Object.assign(rec.attributes, a);
      return span;
    },
    addEvent: () => span,
    addLink: () => span,
    addLinks: () => span,
    setStatus: (s: SpanStatus) => {
      rec.status = s;
      return span;
    },
    updateName: () => span,
    end: () => {
      rec.ended = true;
    },
    isRecording: () => true,
    recordException: () => undefined,
  };
  return span;
}

const provider: TracerProvider = {
  getTracer(tracerName: string): Tracer {
    const start = (name: string, options?: { attributes?: Attributes }): Span => {
      const rec: Recorded = {
        tracer: tracerName,
        name,
        attributes: { ...(options?.attributes ?? {}) } as Record<string, AttributeValue>,
        ended: false,
      };
      spans.push(rec);
      return recordingSpan(rec);
    };
    return {
      startSpan: start,
      startActiveSpan: ((name: string, ...rest: unknown[]) => {
        const fn = rest.at(-1) as (span: Span) => unknown;
        const options = rest.length > 1 ? (rest[0] as { attributes?: Attributes }) : undefined;
        return fn(start(name, options));
      }) as Tracer['startActiveSpan'],
    };
  },
};

describe('telemetry of one request', () => {
  beforeAll(() => {
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(() => {
    trace.disable();
  });

  it('shows token verification, gatekeeper and audit write as tenantry spans tagged with the tenant, with codes on failure', async () => {
    // acme active and paid, umbrella suspended (provisioned in runAsSystem).
    const store = await seedTenants();
    const audit = new MemoryAuditPort();
    const t = tenancy({
      auth: AUTH,
      audit,
      gatekeeper: createGatekeeper({ config: directConfigSource(store) }),
      rateLimit: false,
    });
    const app = express();
    app.use(t);
    app.post('/ops/invoices', (_req, res) => {
      res.status(201).json({ tenant: requireTenant().tenantId });
    });
    app.use(t.errors);

    spans.length = 0;
    const res = await request(app)
      .post('/ops/invoices')
      .set(bearer(await mint({ tenantId: 'acme' })))
      .send({ total: 1 });
    expect(res.status).toBe(201);
    await new Promise((r) => setTimeout(r, 20));
    const names = spans.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'tenantry.http.token.verify',
        'tenantry.core.gatekeeper.check',
        'tenantry.http.audit.write',
      ]),
    );
    for (const s of spans.filter(
      (x) => x.name.startsWith('tenantry.http.') || x.name === 'tenantry.core.gatekeeper.check',
    )) {
      expect([s.name, s.attributes['tenantry.tenant_id'], s.ended]).toEqual([s.name, 'acme', true]);
    }
    expect(spans.find((s) => s.name === 'tenantry.http.token.verify')?.tracer).toBe('@tenantry/http');

    spans.length = 0;
    const forged = await request(app)
      .get('/ops/invoices')
      .set(bearer(await mint({ secret: 'another-secret-of-at-least-32-bytes!!' })));
    expect(forged.status).toBe(401);
    const verify = spans.find((s) => s.name === 'tenantry.http.token.verify');
    expect(verify?.attributes['error.type']).toBe('HTTP_TOKEN_INVALID');
    // Never a message or a token in a span.
    expect(JSON.stringify(spans)).not.toMatch(/eyJ|refused|signature/);

    spans.length = 0;
    const refused = await request(app)
      .get('/ops/invoices')
      .set(bearer(await mint({ tenantId: 'umbrella' })));
    expect(refused.body.code).toBe('TENANT_SUSPENDED');
    expect(spans.find((s) => s.name === 'tenantry.core.gatekeeper.check')?.attributes).toMatchObject({
      'tenantry.tenant_id': 'umbrella',
      'tenantry.access': 'read',
    });
  });
});
