import {
  type LocalRedisCluster,
  redisClusterUnavailableReason,
  runConformance,
  startRedisCluster,
  uniqueId,
  useRedisPrefix,
  useTestDatabase,
} from '@tenantry/testkit';
import { PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemoryQuotaStore } from '../src/memory.js';
import { PostgresQuotaStore } from '../src/postgres.js';
import { RedisQuotaStore } from '../src/redis.js';
import { type QuotaStoreHarness, quotaStoreConformance } from '../src/testing.js';

const db = useTestDatabase();
const redis = useRedisPrefix();
const clusterReason = await redisClusterUnavailableReason();

runConformance<QuotaStoreHarness & { close: () => Promise<void> }>(
  'QuotaStore',
  [
    { name: 'memory', setup: () => ({ store: new MemoryQuotaStore(), close: async () => undefined }) },
    // Once per PostgreSQL client kind (node-postgres, Kysely, Drizzle, postgres.js).
    ...PG_CLIENT_KINDS.map((kind) => ({
      name: `postgres (${kind.name})`,
      needs: 'postgres' as const,
      setup: async () => {
        const { pool, close } = kind.open(db.url(), { max: 4 });
        const store = new PostgresQuotaStore({ pool });
        await store.ensureSchema();
        await store.ensureSchema(); // idempotent
        return { store, close };
      },
      teardown: (h: QuotaStoreHarness & { close: () => Promise<void> }) => h.close(),
    })),
    {
      name: 'redis',
      needs: 'redis',
      setup: () => {
        const client = new Redis(redis.url());
        return {
          store: new RedisQuotaStore({ redis: client, keyPrefix: `${redis.prefix()}quota:` }),
          close: async () => void client.disconnect(),
        };
      },
      teardown: (h) => h.close(),
    },
    {
      name: 'redis cluster (3 masters)',
      needs: 'redis',
      skipUnless: () => clusterReason,
      setup: async () => {
        const cluster: LocalRedisCluster = await startRedisCluster(3);
        const client = new Cluster(cluster.nodes);
        return {
          store: new RedisQuotaStore({ redis: client, keyPrefix: `${uniqueId('q')}:` }),
          close: async () => {
            client.disconnect();
            await cluster.stop();
          },
        };
      },
      teardown: (h) => h.close(),
    },
  ],
  (harness) => quotaStoreConformance(harness, { describe, it, expect }),
);

// The harness contract allows a fresh store per call: each test calls harness() once and keeps it.
describe('QuotaStore: memory, a fresh store per harness call', () =>
  quotaStoreConformance(() => ({ store: new MemoryQuotaStore() }), { describe, it, expect }));
