// A second process that reads tenant configuration through its own cache. Commands arrive as JSON
// lines on stdin ({ id, tenant }); answers go to stdout as JSON lines.
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type InvalidationBus, createTenantConfigCache, runAsTenant } from '../../src/index.js';
import { PostgresTenantStore, PostgresInvalidationBus } from '../../src/postgres.js';
import { RedisInvalidationBus } from '../../src/redis.js';

// listenUrl: the server's own URL (LISTEN needs a session: never through a transaction-mode pooler).
const [backend, pgUrl, redisUrl, channel, clientName, consistency, listenUrl] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  'strict' | 'eventual',
  string,
];
const pool = new pg.Pool({ connectionString: pgUrl, max: 2 });
const store = new PostgresTenantStore({ pool });
let bus: InvalidationBus;
let redis: Redis[] = [];
if (backend === 'postgres') {
  bus = new PostgresInvalidationBus({
    pool,
    channel,
    connect: async () => {
      const c = new pg.Client({ connectionString: listenUrl, application_name: clientName });
      await c.connect();
      return c;
    },
    reconnectDelayMs: [20, 200],
  });
} else {
  const publisher = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl, { connectionName: clientName, retryStrategy: () => 20 });
  redis = [publisher, subscriber];
  bus = new RedisInvalidationBus({ redis: publisher, subscriber, channel });
}
// A long TTL: only invalidation messages (or a reset) can make this process see an update.
const cache = createTenantConfigCache({ store, bus, ttlMs: 10 * 60_000, consistency });
await cache.start();
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { id: number; tenant?: string; exit?: boolean };
  if (cmd.exit) break;
  const config = await runAsTenant({ tenantId: cmd.tenant!, actor: { id: 'reader' } }, () => cache.get());
  process.stdout.write(
    `${JSON.stringify({
      id: cmd.id,
      theme: config?.tenant.settings['ui.theme'] ?? null,
      version: config?.tenant.version ?? null,
      maintenance: config?.platform.maintenance ?? null,
      healthy: cache.healthy,
      ...cache.stats(),
    })}\n`,
  );
}
await cache.close();
await pool.end();
for (const r of redis) r.disconnect();
process.exit(0);
