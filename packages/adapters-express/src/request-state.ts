import type { AdmittedRequest, RequestIdentity, RequestView } from '@tenantry/http';
import type { Request } from 'express';

/** What Tenantry knows about one request, read with {@link tenantryOf}. */
export interface TenantryRequestState {
  /** The request id (also in the `x-request-id` response header and in problem bodies). */
  readonly requestId: string;
  /** Who the request acts as, once verified (`undefined` on public paths). */
  identity: RequestIdentity | undefined;
  /** What the gate decided (`settleOnly` for a tenant admin let in to pay). */
  admission: AdmittedRequest | undefined;
  /**
   * Set by `audited()`: the resource acted on, and whether the response waits for the audit write.
   * Only `audited({ failClosed: true })` withholds the response; setting `failClosed` here by hand
   * does not (it can still turn a withheld response back to fail-open).
   */
  audit: { resource?: { type: string; id?: string }; failClosed: boolean } | undefined;
}

// A module-private symbol on the request rather than a WeakMap: one property store per request
// instead of a hash-table insertion, and nothing outside this module can name it.
const STATE: unique symbol = Symbol('tenantry.requestState');
type WithState = Request & { [STATE]?: TenantryRequestState };

/** Attach fresh state to a request. */
export function initState(req: Request, requestId: string): TenantryRequestState {
  const state: TenantryRequestState = {
    requestId,
    identity: undefined,
    admission: undefined,
    audit: undefined,
  };
  (req as WithState)[STATE] = state;
  return state;
}

/**
 * Tenantry's state of a request (request id, verified identity, admission), or `undefined` when the
 * `tenancy()` middleware did not see it. Inside handlers, prefer core's `requireTenant()`.
 * @example const { requestId } = tenantryOf(req) ?? {};
 */
export function tenantryOf(req: Request): TenantryRequestState | undefined {
  if (typeof req !== 'object' || req === null) return undefined;
  return (req as WithState)[STATE];
}

/**
 * The framework-agnostic view of an Express request: one object with its methods on the prototype
 * (no closures per request), `path` read once.
 */
class ExpressRequestView implements RequestView {
  readonly method: string;
  readonly path: string;
  readonly #req: Request;
  constructor(req: Request) {
    this.#req = req;
    this.method = req.method;
    this.path = req.path;
  }
  header(name: string): string | undefined {
    const v = this.#req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }
  query(name: string): string | undefined {
    const v = (this.#req.query as Record<string, unknown>)[name];
    return typeof v === 'string' ? v : undefined;
  }
  // Getters: Express computes both on each read (host parsing, the proxy trust chain), and most
  // requests need neither.
  get hostname(): string | undefined {
    return this.#req.hostname;
  }
  get ip(): string | undefined {
    return this.#req.ip;
  }
}

/** The framework-agnostic view of an Express request. */
export function viewOf(req: Request): RequestView {
  return new ExpressRequestView(req);
}

/** The matched route pattern (`/ops/invoices/:id`), else the path. */
export function routeOf(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  return typeof route === 'string' ? `${req.baseUrl}${route}` : (req.originalUrl.split('?')[0] ?? req.path);
}

/**
 * The matched route template (`/ops/invoices/:id`), or `undefined` when no route matched: metric
 * attributes must not take the raw path, whose values are unbounded.
 */
export function routeTemplateOf(req: Request): string | undefined {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  return typeof route === 'string' ? `${req.baseUrl}${route}` : undefined;
}
