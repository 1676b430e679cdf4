/** A Connect-style middleware (helmet's shape): `(req, res, next)`. */
export type HeaderMiddleware = (req: never, res: never, next: (error?: unknown) => void) => void;

/** A response that headers can be set on and removed from (Node's `ServerResponse`, Fastify's raw reply). */
export interface HeaderTarget {
  setHeader(name: string, value: string): unknown;
  removeHeader(name: string): unknown;
}

/** What a header-only middleware did to a response, replayed on every request. */
export interface StaticHeaders {
  /** Headers set, in order, as `[name, value]`. */
  readonly set: ReadonlyArray<readonly [string, string]>;
  /** Headers removed (`X-Powered-By`). */
  readonly remove: readonly string[];
  /** Apply the recorded headers to one response. */
  apply(res: HeaderTarget): void;
}

const hasFunction = (value: unknown, depth = 0): boolean => {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object' || depth > 32) return false;
  return Object.values(value).some((v) => hasFunction(v, depth + 1));
};

/**
 * Run a header-only middleware (helmet with static options) once against a recording response, so
 * each request replays a handful of `setHeader` calls instead of running its chain of a dozen
 * middlewares (≈ 7% of an adapter's CPU per request). Returns `undefined` when the headers may differ
 * between requests, and the caller keeps running the middleware itself: when `options` hold a function
 * (helmet's CSP nonces and per-request directives), or when the middleware reads the request, touches
 * the response beyond `setHeader`/`removeHeader`, passes an error or does not call `next` at once.
 * @example
 * const headers = recordStaticHeaders(helmet(options), options); // undefined → keep helmet per request
 * headers?.apply(res);
 */
export function recordStaticHeaders(
  middleware: HeaderMiddleware,
  options: unknown,
): StaticHeaders | undefined {
  if (typeof middleware !== 'function' || hasFunction(options)) return undefined;
  let dynamic = false;
  const set: Array<readonly [string, string]> = [];
  const remove: string[] = [];
  // Replayed in the order they happened (a header set and later removed stays removed).
  const ops: Array<readonly [string, string | undefined]> = [];
  // Any read of the request, or of a response member other than the two setters, means the headers
  // may depend on the request: do not record them.
  const req = new Proxy(
    {},
    {
      get() {
        dynamic = true;
        return undefined;
      },
      has() {
        dynamic = true;
        return false;
      },
    },
  );
  const recorder: HeaderTarget = {
    setHeader(name, value) {
      if (typeof name !== 'string' || typeof value !== 'string') dynamic = true;
      else {
        set.push([name, value]);
        ops.push([name, value]);
      }
    },
    removeHeader(name) {
      if (typeof name !== 'string') dynamic = true;
      else {
        remove.push(name);
        ops.push([name, undefined]);
      }
    },
  };
  const res = new Proxy(recorder, {
    get(target, key) {
      if (key === 'setHeader' || key === 'removeHeader') return target[key];
      dynamic = true;
      return undefined;
    },
  });
  let passed = false;
  try {
    middleware(req as never, res as never, (error?: unknown) => {
      if (error !== undefined && error !== null) dynamic = true;
      passed = true;
    });
  } catch {
    return undefined;
  }
  if (dynamic || !passed) return undefined;
  return Object.freeze({
    set: Object.freeze(set.map((h) => Object.freeze(h))),
    remove: Object.freeze(remove),
    apply(target: HeaderTarget): void {
      for (const [name, value] of ops) {
        if (value === undefined) target.removeHeader(name);
        else target.setHeader(name, value);
      }
    },
  });
}
