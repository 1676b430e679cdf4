import type { ServerResponse } from 'node:http';
import type { AdmittedRequest, HttpTenancy, RequestIdentity, RequestView } from '@tenantry/http';

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

const states = new WeakMap<object, TenantryRequestState>();

/** @internal */
export function initState(req: object, requestId: string): TenantryRequestState {
  const state: TenantryRequestState = {
    requestId,
    identity: undefined,
    admission: undefined,
    audit: { written: false },
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

/** @internal The framework-agnostic view of an Express or Fastify request. */
export function viewOf(request: object): RequestView {
  const req = request as AnyRequest;
  const path = typeof req.path === 'string' ? req.path : (req.url.split('?')[0] ?? '/');
  return {
    method: req.method,
    path,
    header: (name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    },
    query: (name) => {
      const v = (req.query as Record<string, unknown> | undefined)?.[name];
      return typeof v === 'string' ? v : undefined;
    },
    // Getters: on Express both are computed on each read (host parsing, the proxy trust chain), and
    // most requests need neither.
    get hostname() {
      return req.hostname?.replace(/:\d+$/, '');
    },
    get ip() {
      return req.ip;
    },
  };
}

/** @internal The matched route pattern on either platform. */
export function routeOf(request: object): string {
  const req = request as AnyRequest;
  if (req.routeOptions?.url) return req.routeOptions.url;
  if (req.route?.path) return `${req.baseUrl ?? ''}${req.route.path}`;
  return (req.originalUrl ?? req.url).split('?')[0] ?? '/';
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
    ...(state.audit.resource ? { resource: state.audit.resource } : {}),
    ...(state.audit.maskPaths ? { maskPaths: state.audit.maskPaths } : {}),
    status,
    ...(req.ip !== undefined ? { ip: req.ip } : {}),
    ...(typeof ua === 'string' ? { userAgent: ua } : {}),
    requestId: state.requestId,
    ...(req.body !== undefined ? { body: req.body } : {}),
  });
}
