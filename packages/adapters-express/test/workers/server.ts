// A test server process: the same app as its siblings, sharing one Redis for rate limits and lockout.
// argv: <redisUrl> <prefix>. Prints {"port":N} once listening; shuts down gracefully on SIGTERM.
import { noopAuditPort } from '@tenantry/core';
import express from 'express';
import { Redis } from 'ioredis';
import { signInLockout, tenancy } from '../../src/index.js';
import { AUTH } from '../helpers.js';

const [redisUrl = 'redis://127.0.0.1:6379', prefix = 'tk:'] = process.argv.slice(2);
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
const t = tenancy({
  auth: AUTH,
  audit: noopAuditPort,
  redis,
  rateLimit: {
    perIp: { limit: 10, windowMs: 60_000 },
    perTenant: { limit: 6, windowMs: 60_000 },
    prefix: `${prefix}rl:`,
  },
  publicPaths: ['/auth'],
  closeOnShutdown: [() => redis.quit()],
});
const app = express();
app.use(t);
app.post(
  '/auth/sign-in',
  signInLockout({ account: (req) => req.body?.email, redis, maxFailures: 3, prefix: `${prefix}lock:` }),
  (req, res) => {
    if (req.body?.password === 'right') res.json({ ok: true });
    else res.status(401).json({ ok: false });
  },
);
app.get('/ops/ping', (_req, res) => {
  res.json({ pid: process.pid });
});
app.use(t.errors);
const server = t.manage(
  app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(
      `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
    );
  }),
);
process.once('SIGTERM', () => {
  void t.close().then(() => process.exit(0));
});
