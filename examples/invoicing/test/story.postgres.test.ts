import { hasBackend, pgVia, skipLabel, useRedisPrefix, useTestDatabase } from '@tenantry/testkit';
import { describe } from 'vitest';
import { startApp } from '../src/app.js';
import { storySuite } from './story.js';

// The same story on the machine's PostgreSQL and Redis: concurrent transactions for real, lockout and
// rate limits on Redis.
const ready = hasBackend('postgres') && hasBackend('redis');
// Without DATABASE_APP_URL the app sets its role per checkout, session state that a transaction-mode
// pooler does not keep: behind one the app needs DATABASE_APP_URL (README), proven by rls.test.ts.
const pooled = pgVia() === 'pgbouncer';
describe.skipIf(!ready || pooled)(
  `the invoicing app on PostgreSQL and Redis${skipLabel('postgres')}${skipLabel('redis')}${pooled ? ' (skipped behind PgBouncer: SET ROLE per checkout needs a session; see the DATABASE_APP_URL suite)' : ''}`,
  () => {
    const db = useTestDatabase();
    const redis = useRedisPrefix();
    storySuite(
      () =>
        startApp({
          env: { DATABASE_URL: db.url(), REDIS_URL: redis.url() },
          config: { port: 0 },
          redisPrefix: redis.prefix(),
          rateLimit: false,
        }),
      25,
    );
  },
);
