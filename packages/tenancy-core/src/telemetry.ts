import { type Attributes, SpanStatusCode, trace } from '@opentelemetry/api';
import { isTenantryError } from './errors.js';

const tracer = trace.getTracer('@tenantry/core');

/**
 * Run `fn` in an OpenTelemetry span named `tenantry.<name>`, tagged with the tenant and, on failure,
 * the error code (never the message or values). Free when the host installs no SDK.
 * @internal
 */
export function withSpan<R>(name: string, attributes: Attributes, fn: () => Promise<R>): Promise<R> {
  return tracer.startActiveSpan(`tenantry.${name}`, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.setAttribute('tenantry.error_code', isTenantryError(error) ? error.code : 'UNEXPECTED');
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
