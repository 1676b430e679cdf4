import { type Span, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';
import { asTenant, withAppend } from './helpers.js';

interface Recorded {
  name: string;
  attributes: Record<string, unknown>;
  ended: boolean;
}
// A recording tracer implementing only what the library calls, registered as an SDK would be.
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
          setStatus: () => undefined,
          recordException: () => undefined,
          end: () => {
            rec.ended = true;
          },
        };
        return fn(span as unknown as Span);
      },
    }) as unknown as Tracer,
};

describe('spans', () => {
  beforeAll(() => void trace.setGlobalTracerProvider(provider));
  afterAll(() => trace.disable());

  it('are named tenantry.audit.<op>, carry the tenant, and on failure error.type = the code, never the message', async () => {
    const inner = new MemoryAuditSink();
    let down = false;
    const sink = withAppend(inner, async (events, opts) => {
      if (down) throw new Error('connection refused to db.internal: password=hunter2');
      return inner.append(events, opts);
    });
    const log = createAuditLog({ sink, delivery: { mode: 'direct' } });
    spans.length = 0;
    await asTenant('acme', async () => {
      await log.record({ actor: { id: 'u' }, action: 'plan.changed', outcome: 'success' });
      await log.verify();
      await log.query();
      down = true;
      await log
        .record({ actor: { id: 'u' }, action: 'plan.changed', outcome: 'success' })
        .catch(() => undefined);
    });
    expect(spans.map((s) => [s.name, s.attributes['tenantry.tenant_id'], s.ended])).toEqual([
      ['tenantry.audit.record', 'acme', true],
      ['tenantry.audit.verify', 'acme', true],
      ['tenantry.audit.query', 'acme', true],
      ['tenantry.audit.record', 'acme', true],
    ]);
    expect(spans[1]!.attributes).toMatchObject({ 'tenantry.audit.checked': 1, 'tenantry.audit.ok': true });
    expect(spans[3]!.attributes['error.type']).toBe('AUDIT_WRITE_FAILED');
    expect(JSON.stringify(spans)).not.toContain('hunter2');
  });
});
