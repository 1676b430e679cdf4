import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * Spans through `@opentelemetry/api` only: free (no-op) unless the host registers an SDK. Span names
 * start with `tenantry.`; attributes carry the tenant (`tenantry.tenant_id`) and never personal data
 * or secrets.
 */
const tracer = () => trace.getTracer('@tenantry/core');

/** Run `fn` in an active span; exceptions are recorded and mark the span as an error. */
export function withSpan<R>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<R>,
): Promise<R> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as { code?: string }).code });
      throw error;
    } finally {
      span.end();
    }
  });
}
