import {
  hasBackend,
  pgVia,
  skipLabel,
  useMongoDatabase,
  useRedisPrefix,
  useTestDatabase,
} from '@tenantry/testkit';
import { describe } from 'vitest';
import { startApp } from '../src/app.js';
import { storySuite } from './story.js';

// The same story with the Mongo variant's stores (MONGO_URL): the audit chain, approval requests and
// policies, wrapped data keys and the snapshot index in MongoDB; the app's tables, tenants, quotas and
// counters on PostgreSQL. Skipped, saying why, when the testkit finds no MongoDB (none on the machine
// this was written on: this suite has not run there).
const ready = hasBackend('postgres') && hasBackend('redis') && hasBackend('mongo');
const pooled = pgVia() === 'pgbouncer';

/** `url` with `name` as its database (the path), keeping its options; works for host lists too. */
function withMongoDatabase(url: string, name: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?#]+)(?:\/[^?#]*)?(\?[^#]*)?$/.exec(url);
  if (!m) throw new Error('MONGO_URL is not a MongoDB URL');
  return `${m[1]}/${name}${m[2] ?? ''}`;
}

describe.skipIf(!ready || pooled)(
  `the invoicing app on PostgreSQL, Redis and MongoDB (MONGO_URL)${skipLabel('mongo')}${skipLabel('postgres')}${skipLabel('redis')}${pooled ? ' (skipped behind PgBouncer: SET ROLE per checkout needs a session; see the DATABASE_APP_URL suite)' : ''}`,
  () => {
    const db = useTestDatabase();
    const redis = useRedisPrefix();
    const mongo = useMongoDatabase();
    storySuite(
      () =>
        startApp({
          env: {
            DATABASE_URL: db.url(),
            REDIS_URL: redis.url(),
            MONGO_URL: withMongoDatabase(mongo.url(), mongo.name()),
          },
          config: { port: 0 },
          redisPrefix: redis.prefix(),
          rateLimit: false,
        }),
      25,
    );
  },
);
