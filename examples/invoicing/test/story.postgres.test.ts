import { hasBackend, skipLabel, useRedisPrefix, useTestDatabase } from '@tenantry/testkit';
import { describe } from 'vitest';
import { startApp } from '../src/app.js';
import { storySuite } from './story.js';

// The same story on the machine's PostgreSQL and Redis: concurrent transactions for real, lockout and
// rate limits on Redis.
const ready = hasBackend('postgres') && hasBackend('redis');
describe.skipIf(!ready)(
  `the invoicing app on PostgreSQL and Redis${skipLabel('postgres')}${skipLabel('redis')}`,
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
