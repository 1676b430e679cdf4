import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { isTenantryError } from './errors.js';
import { ValidationError } from './validation.js';

/**
 * The attribute names every Tenantry span uses. Values are ids, counts and codes only: never
 * plaintexts, keys, document contents or driver messages.
 */
export const TelemetryAttributes = {
  /** The tenant the operation acts for. */
  TENANT_ID: 'tenantry.tenant_id',
  /** On failure: the Tenantry error code, or `UNEXPECTED` for any other error (OpenTelemetry's standard `error.type`). */
  ERROR_TYPE: 'error.type',
} as const;

/**
 * Run `fn` in an active OpenTelemetry span named `tenantry.<pkg>.<operation>`, from the tracer named
 * `@tenantry/<pkg>`. On failure the span gets status ERROR and `error.type` set to the error code: never
 * the message or the exception, which may hold values from a driver. Free when the host installs no
 * OpenTelemetry SDK (`@opentelemetry/api` is then a no-op). For Tenantry packages; hosts may use it too.
 * @param pkg the package, without scope (`'core'`, `'sequencer'`, `'audit'`)
 * @param operation the operation in dotted snake case (`'quota.consume'`, `'allocate'`)
 * @param attributes ids and counts; put the tenant under {@link TelemetryAttributes.TENANT_ID}
 * @example
 * await withSpan('sequencer', 'allocate', { [TelemetryAttributes.TENANT_ID]: tenantId }, () => allocate());
 */
export function withSpan<R>(
  pkg: string,
  operation: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<R>,
): Promise<R> {
  // Cheap boundary checks (this wraps hot paths): a typed rejection, never a TypeError.
  if (typeof fn !== 'function' || typeof pkg !== 'string' || typeof operation !== 'string') {
    return Promise.reject(
      new ValidationError('withSpan arguments', [
        {
          path: [typeof fn !== 'function' ? 'fn' : typeof pkg !== 'string' ? 'pkg' : 'operation'],
          message: typeof fn !== 'function' ? 'must be a function' : 'must be a string',
        },
      ]),
    );
  }
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) attributes = {};
  return trace
    .getTracer(`@tenantry/${pkg}`)
    .startActiveSpan(`tenantry.${pkg}.${operation}`, { attributes }, async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        const code = isTenantryError(error) ? error.code : 'UNEXPECTED';
        span.setAttribute(TelemetryAttributes.ERROR_TYPE, code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: code });
        throw error;
      } finally {
        span.end();
      }
    });
}
