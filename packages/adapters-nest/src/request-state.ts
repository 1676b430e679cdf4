import type { ServerResponse } from 'node:http';
import type {
  AdmittedRequest,
  HttpTenancy,
  RequestIdentity,
  RequestOutcome,
  RequestView,
} from '@tenantry/http';

/** What Tenantry knows about one request, read with {@link tenantryOf}. */
export interface TenantryRequestState {
  readonly requestId: string;
  identity: RequestIdentity | undefined;
  admission: AdmittedRequest | undefined;
  /** A failed verification seen by the context middleware (Express platform), thrown by the guard unless the route is `@Public()`. */
  authError?: unknown;
  /** The resource named by `@Audited()`, and whether the audit event was already written (fail-closed routes). */
  audit: { resource?: { type: string; id?: string }; maskPaths?: readonly string[]; written: boolean };
}

/** The state with what only this package reads: the request's view, made once. */
interface InternalState extends TenantryRequestState {
  view: RequestView | undefined;
}
const states = new WeakMap<object, InternalState>();

/** @internal */
export function initState(req: object, requestId: string): TenantryRequestState {
  const state: InternalState = {
    requestId,
    identity: undefined,
    admission: undefined,
    audit: { written: false },
    view: undefined,
  };
  states.set(req, state);
  return state;
}

/**
 * Tenantry's state of a request (Express `Request` or Fastify `FastifyRequest`): request id, verified
 * identity, admission. Inside handlers, prefer core's `requireTenant()` or `@CurrentTenant()`.
 */
export function tenantryOf(req: object): TenantryRequestState | undefined {
  return states.get(req);
}

/** The request as Express and Fastify both shape it, as far as Tenantry reads it. */
interface AnyRequest {
  method: string;
  url: string;
  originalUrl?: string;
  path?: string;
  headers: Record<string, string | string[] | undefined>;
  query?: unknown;
  hostname?: string;
  ip?: string;
  params?: Record<string, string | undefined>;
  routeOptions?: { url?: string };
  route?: { path?: string };
  baseUrl?: string;
}

/**
 * The framework-agnostic view of an Express or Fastify request. A class, so a view is one small object
 * (methods on the prototype, no closures per request); `path` is read once, the rest on each call.
 */
class NodeRequestView implements RequestView {
  readonly method: string;
  readonly path: string;
  readonly #req: AnyRequest;
  constructor(req: AnyRequest) {
    this.#req = req;
    this.method = req.method;
    this.path = typeof req.path === 'string' ? req.path : (req.url.split('?')[0] ?? '/');
  }
  header(name: string): string | undefined {
    return headerOf(this.#req, name);
  }
  query(name: string): string | undefined {
    const v = (this.#req.query as Record<string, unknown> | undefined)?.[name];
    return typeof v === 'string' ? v : undefined;
  }
  // Getters: on Express both are computed on each read (host parsing, the proxy trust chain), and
  // most requests need neither.
  get hostname(): string | undefined {
    return this.#req.hostname?.replace(/:\d+$/, '');
  }
  get ip(): string | undefined {
    return this.#req.ip;
  }
}

/** @internal A request header (lower-case name), the first value of a repeated one. */
export function headerOf(request: object, name: string): string | undefined {
  const v = (request as AnyRequest).headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * @internal The framework-agnostic view of an Express or Fastify request: once the request has a
 * state, one view per request, shared by the context middleware and the guard.
 */
export function viewOf(request: object): RequestView {
  const state = states.get(request);
  if (!state) return new NodeRequestView(request as AnyRequest);
  if (!state.view) state.view = new NodeRequestView(request as AnyRequest);
  return state.view;
}

/** @internal The matched route pattern on either platform. */
export function routeOf(request: object): string {
  const req = request as AnyRequest;
  if (req.routeOptions?.url) return req.routeOptions.url;
  if (req.route?.path) return `${req.baseUrl ?? ''}${req.route.path}`;
  return (req.originalUrl ?? req.url).split('?')[0] ?? '/';
}

/**
 * @internal The matched route template on either platform, or `undefined` when none matched: metric
 * attributes must not take the raw path, whose values are unbounded.
 */
export function routeTemplateOf(request: object): string | undefined {
  const req = request as AnyRequest;
  if (req.routeOptions?.url) return req.routeOptions.url;
  if (req.route?.path) return `${req.baseUrl ?? ''}${req.route.path}`;
  return undefined;
}

/** What the guard learns for the request's duration metric; keyed by the Node request. */
type Timing = Pick<RequestOutcome, 'route' | 'tenantId'>;
const timings = new WeakMap<object, Timing>();
const rawRequest = (request: object): object => (request as { raw?: object }).raw ?? request;

/**
 * @internal Time the request for `http.server.request.duration` (the context middleware calls this on
 * both platforms, before routing, so unmatched routes are timed too); recorded when the connection closes.
 */
export function timeRequest(http: HttpTenancy, request: object, response: object): void {
  const req = rawRequest(request) as { method?: string };
  const timer = http.timeRequest(req.method ?? 'GET');
  if (timer === undefined) return; // no SDK, or turned off: no listener, no state
  const timing: Timing = { route: undefined, tenantId: undefined };
  timings.set(req, timing);
  const res = rawResponse(response);
  // 'close' follows 'finish' on every response (and comes alone when the client went away).
  res.once('close', () => {
    timer({ ...timing, status: res.statusCode, finished: res.writableFinished });
  });
}

/** @internal Tell the request's timing its route template and tenant (the guard knows them). */
export function describeTiming(request: object, tenantId: string | undefined): void {
  const timing = timings.get(rawRequest(request));
  if (!timing) return;
  timing.route = routeTemplateOf(request);
  timing.tenantId = tenantId;
}

/** @internal The Node response under an Express `Response` or a Fastify `FastifyReply`. */
export function rawResponse(response: object): ServerResponse {
  return ((response as { raw?: ServerResponse }).raw ?? response) as ServerResponse;
}

/** @internal Write the request's audit event. */
export function recordRequest(
  http: HttpTenancy,
  request: object,
  state: TenantryRequestState,
  status: number,
): Promise<void> {
  const identity = state.identity;
  if (!identity) return Promise.resolve();
  const req = request as AnyRequest & { body?: unknown };
  const ua = req.headers['user-agent'];
  return http.recordRequest({
    tenantId: identity.tenantId,
    actor: identity.actor,
    impersonator: identity.impersonator,
    method: req.method,
    route: routeOf(request),
    // One shape for every request (absent values as undefined), not conditional spreads.
    resource: state.audit.resource,
    maskPaths: state.audit.maskPaths,
    status,
    ip: req.ip,
    userAgent: typeof ua === 'string' ? ua : undefined,
    requestId: state.requestId,
    body: req.body,
  });
}
