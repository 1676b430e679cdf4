import { type HttpTenancy, HttpTenancyError } from '@tenantry/http';
import type { Request, Response } from 'express';
import { type TenantryRequestState, routeOf, tenantryOf } from './request-state.js';

// A mutating request's audit event is recorded once, by whichever comes first: the withheld `end` of
// a fail-closed route (before the body leaves), or the response's 'close' (fail-open, after it).
// Which HttpTenancy still has to record it is kept on the request's state: no closure, listener or
// own property on the response per request. (An own `end` on every response changed the shape of
// Node's response objects for all of them: measured at ~130k instructions per request.)
const PENDING: unique symbol = Symbol('tenantry.pendingAudit');
type AuditState = TenantryRequestState & { [PENDING]?: HttpTenancy | undefined; [WITHHELD]?: true };
const WITHHELD: unique symbol = Symbol('tenantry.endWithheld');

/** @internal Mark `state`'s request as audited by `http` (a mutating request on an audited app). */
export function expectAudit(http: HttpTenancy, state: TenantryRequestState): void {
  (state as AuditState)[PENDING] = http;
}

/** Take the pending audit of `state`, if any: it is then no longer pending. */
function takePending(state: TenantryRequestState): HttpTenancy | undefined {
  const http = (state as AuditState)[PENDING];
  if (http !== undefined) (state as AuditState)[PENDING] = undefined;
  return http;
}

function record(http: HttpTenancy, req: Request, state: TenantryRequestState, status: number): Promise<void> {
  const identity = state.identity;
  if (!identity) return Promise.resolve();
  const ua = req.headers['user-agent'];
  return http.recordRequest({
    tenantId: identity.tenantId,
    actor: identity.actor,
    impersonator: identity.impersonator,
    method: req.method,
    route: routeOf(req),
    resource: state.audit?.resource,
    status,
    ip: req.ip,
    userAgent: ua,
    requestId: state.requestId,
    body: req.body,
  });
}

/**
 * @internal On a response's 'close' (which follows 'finish', or comes alone when the client went
 * away): record its request's event if still pending, fail-open (a failed write is logged by code).
 */
export function recordOnClose(res: Response): void {
  const req = res.req;
  const state = tenantryOf(req);
  const http = state && takePending(state);
  if (!http || !state) return;
  record(http, req, state, res.statusCode).catch((error: unknown) =>
    http.logger.error(
      { requestId: state.requestId, code: (error as { code?: unknown })?.code ?? 'UNEXPECTED' },
      'audit write of a request failed',
    ),
  );
}

const STRIP_ON_WITHHOLD = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-disposition',
  'etag',
  'last-modified',
  'location',
  'set-cookie',
];

/**
 * @internal For a fail-closed route (`audited({ failClosed: true })`): hold the response's `end` until
 * the audit event is written; if the write fails, answer `HTTP_AUDIT_UNAVAILABLE` instead. A response
 * whose headers already left (a stream) cannot be withheld and is audited fail-open, on 'close'.
 */
export function withholdEndUntilAudited(req: Request, res: Response): void {
  const state = tenantryOf(req) as AuditState | undefined;
  if (!state || state[PENDING] === undefined || state[WITHHELD]) return;
  state[WITHHELD] = true;
  const end = res.end;
  res.end = function withheldEnd(this: Response, ...args: unknown[]): Response {
    // A later `audited()` without failClosed turns it back to fail-open.
    const http = res.headersSent || !state.audit?.failClosed ? undefined : takePending(state);
    if (!http) return (end as (...a: unknown[]) => Response).apply(this, args);
    record(http, req, state, res.statusCode).then(
      // Something else may have answered meanwhile (the error handler, after the handler answered and
      // then threw): a second end would raise ERR_STREAM_ALREADY_FINISHED on the response.
      () => {
        if (!res.headersSent) (end as (...a: unknown[]) => Response).apply(res, args);
      },
      (error: unknown) => {
        if (res.headersSent) return;
        for (const h of STRIP_ON_WITHHOLD) res.removeHeader(h);
        const p = http.problem(
          new HttpTenancyError('HTTP_AUDIT_UNAVAILABLE', 'The audit trail could not record this request', {
            cause: error,
          }),
          state.requestId,
        );
        res.statusCode = p.status;
        for (const [k, v] of Object.entries(p.headers)) res.setHeader(k, v);
        const body = JSON.stringify(p.body);
        res.setHeader('content-length', Buffer.byteLength(body));
        (end as (...a: unknown[]) => Response).call(res, body);
      },
    );
    return res;
  } as Response['end'];
}
