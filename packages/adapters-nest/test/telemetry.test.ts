// The spans and metrics of one request on Nest (Express and Fastify platforms), through OpenTelemetry's
// own SDK with its in-memory exporters, registered globally as a host registers it.
import { Param, Post } from '@nestjs/common';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createAuditLog } from '@tenantry/audit';
import { MemoryAuditSink } from '@tenantry/audit/memory';
import { requireTenant } from '@tenantry/core';
import { createLockedSequencer, defineSeries } from '@tenantry/sequencer';
import { MemoryCounterStore, MemoryLockBackend } from '@tenantry/sequencer/memory';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type NestTestApp,
  type OpenTelemetrySdk,
  type Platform,
  bearer,
  buildNestApp,
  controller,
  histogramCounts,
  installOpenTelemetry,
  mint,
} from './helpers.js';

let sdk: OpenTelemetrySdk;
beforeAll(() => {
  sdk = installOpenTelemetry();
});
afterAll(() => sdk.uninstall());

const numbered: number[] = [];
const auditLog = createAuditLog({ sink: new MemoryAuditSink() });
const seq = createLockedSequencer({
  lock: new MemoryLockBackend(),
  store: new MemoryCounterStore(),
  highestCommitted: async () => (numbered.length === 0 ? null : Math.max(...numbered)),
});

const Numbered = controller('ops/numbered', {
  create: {
    decorators: [Post(':series')],
    params: [Param('series')],
    handler: (async (series: string) => {
      const number = await seq.withNumber(defineSeries({ key: series }), {}, async (n) => {
        numbered.push(n.number);
        return n.number;
      });
      await auditLog.record({
        actor: requireTenant().actor,
        action: 'invoice.created',
        targets: [{ type: 'invoice', id: String(number) }],
        outcome: 'success',
      });
      return { number };
    }) as never,
  },
});

describe.each(['express', 'fastify'] as Platform[])(
  'telemetry of one request on Nest with %s',
  (platform) => {
    let t: NestTestApp;
    beforeAll(async () => {
      t = await buildNestApp(platform, { auditPort: auditLog.port }, { controllers: [Numbered] });
    });
    afterAll(() => t.close());

    it('a request that allocates a number and writes an audit event: tenantry spans with the tenant, and the duration by route template', async () => {
      const createdCount = async () =>
        histogramCounts(await sdk.metric('http.server.request.duration')).find(
          ([a]) =>
            JSON.stringify(a) ===
            JSON.stringify({
              'http.request.method': 'POST',
              'http.response.status_code': 201,
              'http.route': '/ops/numbered/:series',
            }),
        )?.[1] ?? 0;
      const createdBefore = await createdCount();
      sdk.spans.reset();
      const series = `inv-${platform}`;
      const res = await request(t.app.getHttpServer())
        .post(`/ops/numbered/${series}`)
        .set(bearer(await mint({ tenantId: 'acme' })))
        .send({});
      expect([res.status, res.body]).toEqual([201, { number: 1 }]);
      for (
        let i = 0;
        i < 100 && !sdk.spans.getFinishedSpans().some((s) => s.name === 'tenantry.http.audit.write');
        i++
      ) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const spans = sdk.spans.getFinishedSpans().filter((s) => s.name.startsWith('tenantry.'));
      expect(spans.map((s) => s.name).sort()).toEqual([
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
      const named = (name: string) => spans.find((s) => s.name === name) as ReadableSpan;
      const id = (s: ReadableSpan) => s.spanContext().spanId;
      expect(named('tenantry.sequencer.lock.acquire').parentSpanContext?.spanId).toBe(
        id(named('tenantry.sequencer.allocate')),
      );
      expect(named('tenantry.sequencer.allocate').attributes['tenantry.sequencer.series']).toBe(series);
      const requestAudit = spans.find(
        (s) =>
          s.name === 'tenantry.audit.record' &&
          s.parentSpanContext?.spanId === id(named('tenantry.http.audit.write')),
      );
      expect(requestAudit).toBeDefined();
      for (const s of spans) {
        const tenant = s.name === 'tenantry.audit.append' ? undefined : 'acme';
        expect([s.name, s.attributes['tenantry.tenant_id'], s.status.code]).toEqual([
          s.name,
          tenant,
          SpanStatusCode.UNSET,
        ]);
      }

      // The route template, never the raw path (which holds the series); no tenant id. The histogram
      // is cumulative across the platforms of this file: one more than before this request.
      expect(await createdCount()).toBe(createdBefore + 1);
    });

    it('an unknown path is timed without a route, a refusal is counted', async () => {
      const before = histogramCounts(await sdk.metric('http.server.request.duration'));
      const count404 = (points: typeof before) =>
        points.find(
          ([a]) => a['http.response.status_code'] === 404 && a['http.request.method'] === 'GET',
        )?.[1] ?? 0;
      const missing = await request(t.app.getHttpServer())
        .get(`/no/such/path/${platform}`)
        .set(bearer(await mint({ tenantId: 'acme' })));
      expect(missing.status).toBe(404);
      const after = histogramCounts(await sdk.metric('http.server.request.duration'));
      expect(count404(after)).toBe(count404(before) + 1);
      for (const [attributes] of after) expect(JSON.stringify(attributes)).not.toContain('/no/such/path');
      const unauthenticated = await request(t.app.getHttpServer()).post('/ops/numbered/x').send({});
      expect(unauthenticated.status).toBe(401);
      const refusals = await sdk.metric('tenantry.http.refusals');
      expect(refusals?.dataPoints.map((p) => p.attributes)).toContainEqual({
        'error.type': 'HTTP_TOKEN_MISSING',
        'http.response.status_code': 401,
      });
    });
  },
);
