import type { AddressInfo } from 'node:net';
import { isTenantryError } from '@tenantry/core';
import { signInLockout, tenancy } from '@tenantry/express';
import { approvalRoutes } from '@tenantry/express/approvals';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { apiRouter } from './api.js';
import { createAuth } from './auth.js';
import { type AppConfig, loadConfig } from './config.js';
import { CONSOLE_CSS } from './console/html.js';
import { SESSION_COOKIE, consoleRouter } from './console/pages.js';
import { createDocuments, registerApprovalActions } from './documents.js';
import { createPlatform } from './platform.js';
import { seedDemo } from './seed.js';
import { type Services, createServices } from './services.js';
import { createTenantSettings } from './tenant-settings.js';

export interface StartOptions {
  /** Overrides of the environment's configuration (tests use `port: 0`). */
  config?: Partial<AppConfig>;
  /** Environment to read (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** The adapter's rate limits (`false` off). @default the adapter's defaults */
  rateLimit?:
    | false
    | { perIp: { limit: number; windowMs: number }; perTenant: { limit: number; windowMs: number } };
  /** Sign-in failures per account before lockout. @default 5 */
  maxSignInFailures?: number;
  /** Prefix of the Redis keys of rate limits and lockout (tests isolate files with it). @default `invoicing:` */
  redisPrefix?: string;
}

export interface RunningApp {
  readonly url: string;
  readonly services: Services;
  readonly seeded: boolean;
  close(): Promise<void>;
}

const DEFAULT_RATE_LIMIT = {
  perIp: { limit: 300, windowMs: 60_000 },
  perTenant: { limit: 1200, windowMs: 60_000 },
};

/** Copy the session cookie into the Authorization header, so the adapter verifies it like any bearer token. */
const cookieBearer: RequestHandler = (req, _res, next) => {
  if (!req.headers.authorization && req.headers.cookie) {
    for (const part of req.headers.cookie.split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name === SESSION_COOKIE && rest.length > 0) req.headers.authorization = `Bearer ${rest.join('=')}`;
    }
  }
  next();
};

/** Start the app: database (PGlite or PostgreSQL), migrations, seed, HTTP server. */
export async function startApp(options: StartOptions = {}): Promise<RunningApp> {
  const config = loadConfig(options.env as never, options.config);
  const s = await createServices(config);
  try {
    return await listen(s, options);
  } catch (error) {
    await s.close();
    throw error;
  }
}

async function listen(s: Services, options: StartOptions): Promise<RunningApp> {
  const auth = createAuth(s);
  registerApprovalActions(s, s.approvals);
  const seeded = s.config.seedDemo ? await seedDemo(s) : false;
  const docs = createDocuments(s);
  const settings = createTenantSettings(s);
  const platform = createPlatform(s);

  const redisPrefix = options.redisPrefix ?? 'invoicing:';
  const t = tenancy({
    auth: auth.verifierOptions,
    audit: s.audit.port,
    gatekeeper: s.gatekeeper,
    ...(s.redis ? { redis: s.redis } : {}),
    publicPaths: ['/auth', '/login', '/assets'],
    ...(options.rateLimit === false
      ? { rateLimit: false as const }
      : { rateLimit: { ...(options.rateLimit ?? DEFAULT_RATE_LIMIT), prefix: `${redisPrefix}rl:` } }),
    readiness: { postgres: s.pool },
    // Unexpected (500) errors: the client gets a bare problem; the operator gets the error here.
    onUnexpectedError: (error, requestId) => console.error(`request ${requestId} failed:`, error),
  });
  const lockout = signInLockout({
    account: (req) => (typeof req.body?.email === 'string' ? req.body.email : undefined),
    maxFailures: options.maxSignInFailures ?? 5,
    windowMs: 15 * 60_000,
    prefix: `${redisPrefix}lockout:`,
    ...(s.redis ? { redis: s.redis } : {}),
  });
  const approvals = approvalRoutes({ engine: s.approvals, basePath: '/ops/approvals' });

  const app = express();
  app.disable('x-powered-by');
  app.get('/', (_req, res) => res.redirect(303, '/console'));
  app.use(cookieBearer);
  app.use(t);
  app.get('/assets/console.css', (_req, res) => {
    res.type('text/css').set('cache-control', 'max-age=3600').send(CONSOLE_CSS);
  });
  app.use(apiRouter({ s, auth, docs, settings, platform, approvals, signInLockout: lockout }));
  app.use(approvals.router);
  app.use(consoleRouter({ s, auth, docs, settings, platform, signInLockout: lockout }));
  // Browsers: an absent or expired session goes to the sign-in page, other refusals to an error page.
  const consoleErrors: ErrorRequestHandler = (error, req, res, next) => {
    const wantsHtml = req.path.startsWith('/console') || req.path === '/logout';
    if (!wantsHtml || res.headersSent || !isTenantryError(error)) return next(error);
    if (error.code.startsWith('HTTP_TOKEN')) return res.redirect(303, '/login');
    res
      .status(error.status)
      .type('html')
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Refused</title><link rel="stylesheet" href="/assets/console.css"></head>
<body><main><h1>Refused</h1><p class="badge bad" data-testid="error-code">${error.code}</p><p><a href="/console">Back</a> · <a href="/login">Sign in</a></p></main></body></html>`);
  };
  app.use(consoleErrors);
  app.use(t.errors);

  const server = app.listen(s.config.port, s.config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  t.manage(server);
  const { port } = server.address() as AddressInfo;
  const host = s.config.host === '0.0.0.0' ? '127.0.0.1' : s.config.host;
  let closed = false;
  return {
    url: `http://${host}:${port}`,
    services: s,
    seeded,
    async close() {
      if (closed) return;
      closed = true;
      await t.close();
      await s.close();
    },
  };
}
