import {
  type Attributes,
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  type Span,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
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
  if (noTracerInstalled(pkg)) {
    // No SDK: the API would only create a non-recording span and a context nobody reads (measured: a
    // visible share of the CPU of a one-statement unit of work). The same outcome, without them.
    try {
      return Promise.resolve(fn(NON_RECORDING_SPAN));
    } catch (error) {
      return Promise.reject(error);
    }
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

/** What `fn` gets when no SDK is installed: the API's own non-recording span (every method a no-op). */
const NON_RECORDING_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Whether no tracer provider is registered: the global provider is this copy of the API's proxy and has
 * no delegate. Checked on every call (an SDK may be registered at any time); any other provider (an SDK,
 * another copy of the API) takes the full path. Not exported from the package.
 * @internal
 */
export function noTracerInstalled(pkg: string): boolean {
  const provider = trace.getTracerProvider();
  return (
    provider instanceof ProxyTracerProvider && provider.getDelegateTracer(`@tenantry/${pkg}`) === undefined
  );
}
