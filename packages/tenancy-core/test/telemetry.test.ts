import { type Span, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryAuditPort,
  MemoryNotificationPort,
  createImpersonation,
  createQuotas,
  withSpan,
} from '../src/index.js';
import { MemoryQuotaStore } from '../src/memory.js';
import { asSystem, asTenant } from './helpers.js';

interface Recorded {
  name: string;
  attributes: Record<string, unknown>;
  status?: { code: number; message?: string };
  ended: boolean;
}

// A recording tracer implementing only what the library calls, registered through the public API
// exactly as an SDK would be.
const spans: Recorded[] = [];
const provider: TracerProvider = {
  getTracer: () =>
    ({
      startActiveSpan: (
        name: string,
        opts: { attributes?: Record<string, unknown> },
        fn: (s: Span) => unknown,
      ) => {
        const rec: Recorded = { name, attributes: { ...opts.attributes }, ended: false };
        spans.push(rec);
        const span = {
          setAttribute: (k: string, v: unknown) => {
            rec.attributes[k] = v;
          },
          setAttributes: (a: Record<string, unknown>) => void Object.assign(rec.attributes, a),
          setStatus: (st: Recorded['status']) => {
            rec.status = st;
          },
          recordException: () => undefined,
          end: () => {
            rec.ended = true;
          },
        };
        return fn(span as unknown as Span);
      },
    }) as unknown as Tracer,
};

// Runs before the describe below registers a provider: the state of a host with no SDK installed.
describe('withSpan with no OpenTelemetry SDK installed', () => {
  it('runs fn with a non-recording span and settles as fn does (value, rejection, synchronous throw); a provider registered later records', async () => {
    let seen: Span | undefined;
    expect(
      await withSpan('core', 'probe', { a: 1 }, async (span) => {
        seen = span;
        return 42;
      }),
    ).toBe(42);
    expect(seen?.isRecording()).toBe(false);
    const failure = new Error('boom');
    await expect(withSpan('core', 'probe', {}, () => Promise.reject(failure))).rejects.toBe(failure);
    const thrown = withSpan('core', 'probe', {}, () => {
      throw failure;
    });
    await expect(thrown).rejects.toBe(failure);
    // Registered after the calls above: the next call records (the check is made on every call).
    const before = spans.length;
    trace.setGlobalTracerProvider(provider);
    try {
      expect(await withSpan('core', 'probe', {}, async () => 'ok')).toBe('ok');
      expect(spans.slice(before).map((s) => [s.name, s.ended])).toEqual([['tenantry.core.probe', true]]);
    } finally {
      trace.disable();
    }
    await withSpan('core', 'probe', {}, async () => undefined);
    expect(spans.length).toBe(before + 1);
  });
});

describe('OpenTelemetry spans', () => {
  beforeAll(() => void trace.setGlobalTracerProvider(provider));
  afterAll(() => trace.disable());

  it('quota consumes are spans tagged with the tenant, quota and outcome', () =>
    ((f) => asTenant('acme', f))(async () => {
      spans.length = 0;
      const q = createQuotas({
        store: new MemoryQuotaStore(),
        quotas: { emails: { window: 'day', defaultLimit: 1 } },
      });
      await q.tryConsume('emails', { tenantId: 'acme' });
      await expect(q.consume('emails', { tenantId: 'acme' })).rejects.toThrow();
      expect(
        spans.map((s) => [
          s.name,
          s.attributes['tenantry.tenant_id'],
          s.attributes['tenantry.quota.granted'],
          s.ended,
        ]),
      ).toEqual([
        ['tenantry.core.quota.consume', 'acme', true, true],
        ['tenantry.core.quota.consume', 'acme', false, true],
      ]);
    }));

  it('impersonation start is a span; a refusal marks it as an error with the code', () =>
    asSystem(async () => {
      spans.length = 0;
      const imp = createImpersonation({
        audit: new MemoryAuditPort(),
        notifications: new MemoryNotificationPort(),
      });
      await expect(
        imp.start({
          support: { id: 's', roles: ['USER'] },
          tenantId: 'acme',
          target: { id: 'u' },
          reason: 'Ticket #1 broken',
        }),
      ).rejects.toThrow();
      expect(spans[0]).toMatchObject({
        name: 'tenantry.core.impersonation.start',
        attributes: { 'tenantry.tenant_id': 'acme' },
        status: { code: 2, message: 'PERMISSION_DENIED' },
        ended: true,
      });
    }));
});
