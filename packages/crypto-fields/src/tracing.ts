import { type Attributes, SpanStatusCode, trace } from '@opentelemetry/api';
import { isTenantryError } from '@tenantry/core';

const TRACER = '@tenantry/crypto-fields';

/**
 * Run `fn` in an OpenTelemetry span (a no-op when the host installs no SDK). Used for key loading,
 * rotation, shredding and rotation batches — not per sealed value, where a span would cost more than
 * the cipher. Attributes are ids and counts only; on failure the span gets the error code, never the
 * message or stack of a foreign error (which could hold secrets).
 * @internal
 */
export function traced<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      const code = isTenantryError(error) ? error.code : 'INTERNAL';
      span.setAttribute('error.type', code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      throw error;
    } finally {
      span.end();
    }
  });
}
