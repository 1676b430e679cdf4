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
  if (typeof route !== 'string') return req.originalUrl.split('?')[0] ?? req.path;
  return `${mountTemplateOf(req) ?? req.baseUrl}${route}`;
}

/**
 * The matched route template (`/ops/invoices/:id`), or `undefined` when no route matched or the
 * patterns of the routers it is mounted under cannot be told: metric attributes must not take the raw
 * path (nor `req.baseUrl`, the mount's actual path), whose values are unbounded.
 */
export function routeTemplateOf(req: Request): string | undefined {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route !== 'string') return undefined;
  const mount = mountTemplateOf(req);
  return mount === undefined ? undefined : `${mount}${route}`;
}

// The parts of Express's router (the `router` package) read to find a mount's pattern.
interface RouterLayer {
  readonly rawPath?: unknown;
  readonly route?: unknown;
  readonly handle?: { readonly stack?: unknown };
  readonly matchers?: ReadonlyArray<(path: string) => { path: string } | false>;
}

// Mount templates by actual mount path, per app router: a bounded memo (a mount path holds parameter
// values, so the distinct keys are unbounded; the map is emptied when full).
const MOUNTS = new WeakMap<object, Map<string, string | null>>();
const MAX_MOUNTS = 1024;

/**
 * The pattern of the routers `req` was routed through (`/customers/:id` for a router mounted there and
 * `req.baseUrl` `/customers/42`); `''` when the route is on the app itself; `undefined` when it cannot
 * be told (a mounted sub-app, an unknown router).
 */
function mountTemplateOf(req: Request): string | undefined {
  const base = req.baseUrl;
  if (base === '') return '';
  const router = (req.app as unknown as { router?: { stack?: unknown } } | undefined)?.router;
  if (!router || !Array.isArray(router.stack)) return undefined;
  let memo = MOUNTS.get(router);
  if (!memo) {
    memo = new Map();
    MOUNTS.set(router, memo);
  }
  const known = memo.get(base);
  if (known !== undefined) return known ?? undefined;
  const found = templateIn(router.stack as RouterLayer[], base, 0);
  if (memo.size >= MAX_MOUNTS) memo.clear();
  memo.set(base, found ?? null);
  return found;
}

// Depth-first through mounted routers (layers whose handle has a stack and that are no route), matching
// `path` with each layer's own matchers (which, unlike `layer.match`, change nothing).
function templateIn(stack: readonly RouterLayer[], path: string, depth: number): string | undefined {
  if (depth > 16) return undefined;
  for (const layer of stack) {
    if (layer.route !== undefined || !Array.isArray(layer.handle?.stack) || !layer.matchers) continue;
    for (let i = 0; i < layer.matchers.length; i++) {
      const m = layer.matchers[i]?.(path);
      if (!m) continue;
      const raw = Array.isArray(layer.rawPath) ? layer.rawPath[i] : layer.rawPath;
      if (typeof raw !== 'string') continue;
      const pattern = raw === '/' ? '' : raw.replace(/\/$/, '');
      const rest = path.slice(m.path.length);
      if (rest === '' || rest === '/') return pattern;
      const inner = templateIn(layer.handle?.stack as RouterLayer[], rest, depth + 1);
      if (inner !== undefined) return `${pattern}${inner}`;
    }
  }
  return undefined;
}
