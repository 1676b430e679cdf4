import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { isTenantryError } from './errors.js';

const tracer = () => trace.getTracer('@tenantry/core');

/**
 * Run `fn` in an active OpenTelemetry span (names start with `tenantry.`), tagged by the caller with
 * the tenant. On failure the span carries the error code only (`tenantry.error_code`, status message):
 * never the message or the exception, which may hold values from a driver. Free when the host
 * installs no SDK (`@opentelemetry/api` is then a no-op).
 * @internal
 */
export function withSpan<R>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<R>,
): Promise<R> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      const code = isTenantryError(error) ? error.code : 'UNEXPECTED';
      span.setAttribute('tenantry.error_code', code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      throw error;
    } finally {
      span.end();
    }
  });
}
