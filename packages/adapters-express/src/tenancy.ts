import type { Server } from 'node:http';
import { noopAuditPort, parseInput, runAsTenant } from '@tenantry/core';
import {
  BodyLimitSchema,
  CorsSettingsSchema,
  DEFAULT_BODY_LIMIT,
  type HttpTenancy,
  type HttpTenancyOptions,
  HttpTenancyError,
  PROBLEM_CONTENT_TYPE,
  type ReadinessChecks,
  type HeaderMiddleware,
  checkReadiness,
  corsOptionsOf,
  createHttpTenancy,
  isMutatingMethod,
  recordStaticHeaders,
} from '@tenantry/http';
import cors from 'cors';
import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import helmet, { type HelmetOptions } from 'helmet';
import { z } from 'zod';
import { expectAudit, recordOnClose } from './audit-step.js';
import { type RedisCallLike, RateLimitSettingsSchema, ipLimiter, tenantLimiter } from './rate-limits.js';
import {
  type TenantryRequestState,
  initState,
  routeTemplateOf,
  tenantryOf,
  viewOf,
} from './request-state.js';

/** Express-specific settings of {@link tenancy}, validated with zod. */
export const ExpressTenancySettingsSchema = z.object({
  /** Largest JSON body accepted (body-parser syntax). @default '100kb' */
  bodyLimit: BodyLimitSchema.default(DEFAULT_BODY_LIMIT),
  /** CORS: off (no CORS headers at all) unless origins are listed (`@tenantry/http`'s CorsSettingsSchema, shared with Nest). */
  cors: CorsSettingsSchema.optional(),
  /** Rate limits; `false` turns them off (e.g. when a gateway limits). @default per IP and per tenant, see RateLimitSettingsSchema */
  rateLimit: z.union([RateLimitSettingsSchema, z.literal(false)]).default({
    perIp: { limit: 300, windowMs: 60_000 },
    perTenant: { limit: 1200, windowMs: 60_000 },
    prefix: 'tenantry:rl:',
  }),
  /** Mount `/health/live` and `/health/ready` under this prefix; `false` to leave them out. @default '/health' */
  healthPath: z.union([z.string().regex(/^\/[A-Za-z0-9._/-]*[^/]$/), z.literal(false)]).default('/health'),
  /** How long `close()` waits for requests in flight before cutting connections. @default 10000 */
  shutdownTimeoutMs: z.number().int().positive().default(10_000),
});

/** Options of {@link tenancy}. */
export interface TenancyOptions extends HttpTenancyOptions, z.input<typeof ExpressTenancySettingsSchema> {
  /** Shared store for the rate limits (an ioredis client), so they hold across processes. */
  redis?: RedisCallLike;
  /**
   * helmet's options; its defaults (CSP, HSTS, no `X-Powered-By`, …) apply when omitted. `false` sends
   * no security headers (only when a proxy or gateway in front sets them), as in `@tenantry/nest`.
   */
  helmet?: HelmetOptions | false;
  /** Stores `/health/ready` checks. */
  readiness?: ReadinessChecks;
  /** What `close()` closes after the last request, in order (an audit log to flush, a config cache, pools). */
  closeOnShutdown?: ReadonlyArray<{ close(): unknown } | { end(): unknown } | (() => unknown)>;
}

/** The middleware returned by {@link tenancy}, with the rest of the wiring attached. */
export interface TenancyMiddleware extends RequestHandler {
  /** The shared HTTP layer (token verification, problem mapping), for custom wiring. */
  readonly http: HttpTenancy;
  /** `HTTP_NOT_FOUND` for unmatched routes, then the problem+json error handler. Mount last: `app.use(t.errors)`. */
  readonly errors: [RequestHandler, ErrorRequestHandler];
  /** Let `close()` stop this server (stop accepting, drain, end idle keep-alive connections). */
  manage(server: Server): Server;
  /**
   * Graceful shutdown: refuse new requests (`HTTP_SHUTTING_DOWN`), stop the managed servers, wait for
   * requests in flight (up to `shutdownTimeoutMs`), then flush the audit port and close `closeOnShutdown`.
   * Idempotent.
   */
  close(): Promise<void>;
}

type Step = (req: Request, res: Response, next: (error?: unknown) => void) => void | Promise<void>;

/** Run `steps` in order as one middleware (no router layers on the hot path); an error or a rejection goes to `done`. */
function compose(steps: readonly Step[]): RequestHandler {
  return (req, res, done) => {
    let i = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined && error !== null) {
        done(error);
        return;
      }
      const current = steps[i++];
      if (current === undefined) {
        done();
        return;
      }
      try {
        const r = current(req, res, step);
        if (r !== undefined) r.catch(done);
      } catch (e) {
        done(e);
      }
    };
    step();
  };
}

function sendProblem(http: HttpTenancy, req: Request, res: Response, error: unknown): void {
  const p = http.problem(error, tenantryOf(req)?.requestId);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(p.status).set(p.headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(p.body));
}

/**
 * The Tenantry middleware for Express 5. In order: refuse new requests while shutting down; request
 * id; helmet; CORS (only if configured); `/health/live` and `/health/ready`; per-IP rate limit; JSON
 * body with a size limit; then, except on `publicPaths`: the bearer token verified with jose (tenant,
 * actor, roles, impersonator), client-named tenants checked against it, per-tenant rate limit, segment
 * roles, gatekeeper, audit of mutating requests, and the rest of the request run inside core's
 * `runAsTenant` (AsyncLocalStorage `run`, never `enterWith`).
 * @throws ValidationError `VALIDATION_FAILED` on malformed options
 * @example
 * const t = tenancy({ auth: { key: { jwksUrl }, issuer, audience: 'api' }, audit: auditLog, gatekeeper, redis });
 * app.use(t);
 * app.post('/ops/invoices', requireRoles('MANAGER'), createInvoice);
 * app.use(t.errors);
 * t.manage(app.listen(3000));
 * process.once('SIGTERM', () => void t.close());
 */
export function tenancy(options: TenancyOptions): TenancyMiddleware {
  const http = createHttpTenancy(options);
  const settings = parseInput(ExpressTenancySettingsSchema, options, 'Express tenancy options');
  const servers = new Set<Server>();
  let inFlight = 0;
  let shuttingDown = false;
  let drained: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  const auditOn = options.audit !== noopAuditPort;
  const live = settings.healthPath === false ? undefined : `${settings.healthPath}/live`;
  const ready = settings.healthPath === false ? undefined : `${settings.healthPath}/ready`;

  function countedClose(): void {
    inFlight--;
    if (inFlight === 0 && drained) drained();
  }
  // One listener shared by every request that has no timer: no closure per request. The audit event is
  // queued before the request stops counting, so a shutdown's flush that the count releases takes it.
  function closed(this: Response): void {
    recordOnClose(this);
    countedClose();
  }
  const enter: Step = (req, res, next) => {
    const timer = http.timeRequest(req.method);
    const state = initState(req, http.requestId(req.headers['x-request-id'] as string | undefined));
    res.setHeader('x-request-id', state.requestId);
    const counted = !shuttingDown;
    if (counted) inFlight++;
    // 'close' follows 'finish' on every response (and comes alone when the client went away), once:
    // `on`, not `once`, spares a bound wrapper per request.
    if (timer !== undefined) {
      res.on('close', () => {
        recordOnClose(res);
        timer({
          route: routeTemplateOf(req),
          status: res.statusCode,
          finished: res.writableFinished,
          tenantId: state.identity?.tenantId,
        });
        if (counted) countedClose();
      });
    } else if (counted) {
      res.on('close', closed);
    }
    if (!counted) {
      res.setHeader('connection', 'close');
      return next(new HttpTenancyError('HTTP_SHUTTING_DOWN', 'The server is shutting down'));
    }
    next();
  };
  // Not async: every request passes here, and only `/ready` waits for anything (no promise per request).
  const health: Step = (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === live) {
      res.json({ status: 'ok' });
      return;
    }
    if (req.path !== ready) return next();
    if (shuttingDown) {
      res.status(503).json({ status: 'unavailable', checks: { shutdown: 'down' } });
      return;
    }
    return checkReadiness(options.readiness ?? {}).then((r) => {
      res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ready' : 'unavailable', checks: r.checks });
    });
  };
  // Token and admission are answered synchronously when nothing needs I/O (a cached verification, no
  // gatekeeper or one answering from its config cache): no promise, no microtask, and the rest of the
  // request runs straight inside runAsTenant. Otherwise the same checks run through their promises.
  const authenticate: Step = (req, _res, next) => {
    const view = viewOf(req);
    if (http.isPublic(view.path)) return next();
    const state = tenantryOf(req) as TenantryRequestState;
    const identity = http.authenticateNow(view);
    if (identity !== undefined) {
      state.identity = identity;
      return next();
    }
    return http.authenticate(view).then((verified) => {
      state.identity = verified;
      next();
    });
  };
  const admit: Step = (req, _res, next) => {
    const state = tenantryOf(req) as TenantryRequestState;
    const identity = state.identity;
    if (!identity) return next();
    if (auditOn && isMutatingMethod(req.method)) expectAudit(http, state);
    const context = http.contextOf(identity, state.requestId);
    if (context === undefined) {
      state.admission = http.admitNow(identity, req.method, req.path);
      return next();
    }
    // Enter the tenant's context once; the gatekeeper decides inside it, at once when it can answer
    // from memory, else through its promise (admit would otherwise enter it a second time).
    return runAsTenant(context, () => {
      const admission = http.admitNow(identity, req.method, req.path);
      if (admission !== undefined) {
        state.admission = admission;
        return next();
      }
      return http.admit(identity, req.method, req.path).then((admitted) => {
        state.admission = admitted;
        next();
      });
    });
  };

  // helmet's headers do not depend on the request unless its options hold functions (CSP nonces):
  // record them once and replay them, rather than run helmet's dozen middlewares per request.
  const steps: Step[] = [enter];
  if (options.helmet !== false) {
    const helmetHandler = helmet(options.helmet);
    const headers = recordStaticHeaders(helmetHandler as HeaderMiddleware, options.helmet);
    steps.push(
      headers
        ? (_req, res, next) => {
            headers.apply(res);
            next();
          }
        : (helmetHandler as Step),
    );
  }
  if (settings.cors) {
    steps.push(cors(corsOptionsOf(settings.cors)) as Step);
  }
  if (live !== undefined) steps.push(health);
  if (settings.rateLimit !== false) steps.push(ipLimiter(settings.rateLimit, options.redis) as Step);
  steps.push(express.json({ limit: settings.bodyLimit }) as Step, authenticate);
  if (settings.rateLimit !== false) steps.push(tenantLimiter(settings.rateLimit, options.redis) as Step);
  steps.push(admit);
  const middleware = compose(steps) as TenancyMiddleware;

  const notFound: RequestHandler = (_req, _res, next) => {
    next(new HttpTenancyError('HTTP_NOT_FOUND', 'No such route'));
  };
  const errorHandler: ErrorRequestHandler = (
    error: unknown,
    req: Request,
    res: Response,
    _next: NextFunction,
  ) => {
    sendProblem(http, req, res, error);
  };

  return Object.assign(middleware, {
    http,
    errors: [notFound, errorHandler] as [RequestHandler, ErrorRequestHandler],
    manage(server: Server): Server {
      servers.add(server);
      return server;
    },
    close(): Promise<void> {
      closing ??= (async () => {
        shuttingDown = true;
        const stopped = [...servers].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeIdleConnections();
            }),
        );
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, settings.shutdownTimeoutMs);
            t.unref();
            drained = () => {
              clearTimeout(t);
              resolve();
            };
          });
        }
        for (const s of servers) s.closeAllConnections();
        await Promise.all(stopped);
        const audit = options.audit as { flush?: () => unknown };
        if (typeof audit.flush === 'function') await audit.flush();
        for (const c of options.closeOnShutdown ?? []) {
          if (typeof c === 'function') await c();
          else if ('close' in c) await c.close();
          else await c.end();
        }
      })();
      return closing;
    },
  });
}
