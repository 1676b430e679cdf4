import {
  type Attributes,
  type Span,
  type SpanOptions,
  type Tracer,
  context,
  trace,
} from '@opentelemetry/api';
import { afterAll, describe, expect } from 'vitest';
import { KEK1, ctx, makeFields, itAsSystem as it } from './helpers.js';

interface Recorded {
  name: string;
  attributes: Attributes;
  status?: unknown;
  ended: boolean;
}
const spans: Recorded[] = [];

/** A minimal recording tracer behind the public API (no SDK installed in this repository). */
const tracer: Tracer = {
  startSpan(name: string, options?: SpanOptions): Span {
    const rec: Recorded = { name, attributes: { ...(options?.attributes ?? {}) }, ended: false };
    spans.push(rec);
    const span = trace.wrapSpanContext({
      traceId: `${'0'.repeat(31)}1`,
      spanId: `${'0'.repeat(15)}1`,
      traceFlags: 1,
    });
    return Object.assign(Object.create(span), {
      setAttribute: (k: string, v: unknown) => {
        rec.attributes[k] = v as string;
        return span;
      },
      setStatus: (s: unknown) => {
        rec.status = s;
        return span;
      },
      end: () => {
        rec.ended = true;
      },
    }) as Span;
  },
  startActiveSpan(name: string, ...args: unknown[]) {
    const fn = args[args.length - 1] as (s: Span) => unknown;
    const options = (args.length > 1 ? args[0] : undefined) as SpanOptions | undefined;
    const span = tracer.startSpan(name, options);
    return context.with(trace.setSpan(context.active(), span), () => fn(span));
  },
} as Tracer;
trace.setGlobalTracerProvider({ getTracer: () => tracer });
afterAll(() => trace.disable());

describe('OpenTelemetry spans (key loading, rotation, shredding)', () => {
  it('records tenant-tagged spans with ids only, and error codes on failure', async () => {
    const { fields } = makeFields();
    const c = await fields.seal('traced-secret-value', ctx);
    await fields.keys.rotate('acme');
    await makeFields({ store: fields.keys.store }).fields.open(c, ctx);
    await fields.keys.shred('acme');
    await makeFields({ store: fields.keys.store })
      .fields.open(c, ctx)
      .catch(() => undefined);
    const names = spans.map((s) => s.name);
    expect(names).toContain('tenantry.crypto-fields.load_key');
    expect(names).toContain('tenantry.crypto-fields.rotate_key');
    expect(names).toContain('tenantry.crypto-fields.shred');
    expect(spans.every((s) => s.ended)).toBe(true);
    expect(
      spans.filter(
        (s) => s.name !== 'tenantry.crypto-fields.load_key' || s.attributes['tenantry.tenant_id'] === 'acme',
      ).length,
    ).toBe(spans.length);
    const failed = spans.find((s) => s.attributes['error.type'] === 'CRYPTO_UNKNOWN_KEY_ID');
    expect(failed?.name).toBe('tenantry.crypto-fields.load_key');
    const dump = JSON.stringify(spans);
    expect(dump).not.toContain('traced-secret-value');
    expect(dump).not.toContain(KEK1);
  });
});
