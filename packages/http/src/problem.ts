import { STATUS_CODES } from 'node:http';
import { type TenantryError, errorCodeSpec, isTenantryError } from '@tenantry/core';

/** An RFC 9457 problem body. Never holds a stack, a driver message or SQL. */
export interface ProblemBody {
  /** A URI naming the problem type: `<typeBase><code>` or `about:blank`. */
  readonly type: string;
  readonly title: string;
  readonly status: number;
  /** The Tenantry error code, e.g. `TENANT_SUSPENDED`; `INTERNAL` for anything unexpected. */
  readonly code: string;
  /** A human-readable explanation, for client errors (4xx) only. */
  readonly detail?: string;
  /** The request id, so a support engineer can find the request in the logs. */
  readonly instance?: string;
  /** For `VALIDATION_FAILED`: the failing field paths with their rules, never the values. */
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>;
}

/** A response to send: status, headers and the problem body (`application/problem+json`). */
export interface ProblemResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ProblemBody;
}

/** Options of {@link toProblem}. */
export interface ProblemOptions {
  /** Prefix of the `type` URI; the code is appended. @default 'about:blank' for every problem */
  typeBase?: string;
  /** The request id, put in `instance`. */
  requestId?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The HTTP status of a Tenantry error code, from the error-code tables of the loaded packages (500 for unknown codes). */
export function statusOfCode(code: string): number {
  return errorCodeSpec(code).status;
}

function retryableCode(code: string): boolean {
  return errorCodeSpec(code).retryable === true;
}

interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
}

/**
 * A framework's own client error: a 4xx `status` (or `statusCode`) with `expose: true`, as body
 * parsers raise (`entity.too.large`, malformed JSON), or the `URIError` with `status: 400` that the
 * Express router raises for a malformed %-escape in a route parameter. Answered as a client error,
 * never as an unexpected 500 (which would also reach `onUnexpectedError` for anyone to trigger).
 * Another error that merely carries a 4xx status (a downstream call's) stays a 500.
 */
function frameworkClientError(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as HttpLikeError;
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status > 499) return undefined;
  return e.expose === true || (error instanceof URIError && status === 400) ? status : undefined;
}

function isZodLike(error: unknown): error is { issues: Array<{ path: PropertyKey[]; message: string }> } {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'ZodError' &&
    Array.isArray((error as { issues?: unknown }).issues)
  );
}

const formatPath = (path: readonly PropertyKey[]): string =>
  path.length === 0 ? '(root)' : path.map(String).join('.');

function problem(
  code: string,
  status: number,
  options: ProblemOptions,
  extra: { detail?: string; errors?: ProblemBody['errors']; retryAfterSec?: number } = {},
): ProblemResponse {
  const body: ProblemBody = {
    type: options.typeBase ? `${options.typeBase}${code}` : 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    code,
    ...(extra.detail !== undefined && status < 500 ? { detail: extra.detail } : {}),
    ...(options.requestId !== undefined ? { instance: `urn:request:${options.requestId}` } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'cache-control': 'no-store',
  };
  if (extra.retryAfterSec !== undefined)
    headers['retry-after'] = String(Math.max(1, Math.ceil(extra.retryAfterSec)));
  return { status, headers, body };
}

function validationIssues(error: TenantryError): ProblemBody['errors'] {
  const issues = error.details.issues;
  if (!Array.isArray(issues)) return undefined;
  return issues
    .filter(
      (i): i is { path: string; message: string } =>
        typeof i?.path === 'string' && typeof i?.message === 'string',
    )
    .map((i) => ({ path: i.path, message: i.message }));
}

/**
 * Map any thrown value to an RFC 9457 problem. A Tenantry error answers with its code's status (from
 * the packages' error tables), its code and, for 4xx, its developer message (Tenantry messages never
 * hold secrets or personal data); `VALIDATION_FAILED` and zod errors list field paths; retryable codes
 * get `Retry-After`. Anything else is a 500 with code `INTERNAL` and no message, stack or SQL.
 * @example const p = toProblem(err, { requestId }); res.status(p.status).set(p.headers).json(p.body);
 */
export function toProblem(error: unknown, options: ProblemOptions = {}): ProblemResponse {
  if (isTenantryError(error)) {
    const status = statusOfCode(error.code);
    const retryAfter = error.details.retryAfterSec;
    return problem(error.code, status, options, {
      detail: error.message,
      ...(error.code === 'VALIDATION_FAILED' ? { errors: validationIssues(error) ?? [] } : {}),
      ...(retryableCode(error.code)
        ? { retryAfterSec: typeof retryAfter === 'number' ? retryAfter : 1 }
        : {}),
    });
  }
  if (isZodLike(error)) {
    return problem('VALIDATION_FAILED', statusOfCode('VALIDATION_FAILED'), options, {
      detail: 'The request failed validation',
      errors: error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    });
  }
  const clientStatus = frameworkClientError(error);
  if (clientStatus === 413) {
    return problem('HTTP_PAYLOAD_TOO_LARGE', 413, options, { detail: 'The request body is too large' });
  }
  if (clientStatus !== undefined) {
    return problem('HTTP_BAD_REQUEST', 400, options, { detail: 'The request is malformed' });
  }
  return problem('INTERNAL', 500, options);
}
