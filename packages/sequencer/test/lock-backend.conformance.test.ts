import {
  type BackendCase,
  runConformance,
  startRedisCluster,
  type LocalRedisCluster,
} from '@tenantry/testkit';
import { PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import { Cluster, Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { MemoryLockBackend } from '../src/memory.js';
import { ensureSequencerIndexes, MongoLockBackend } from '../src/mongo.js';
import { runMigrations } from '@tenantry/core/postgres';
import { PostgresLockBackend, sequencerMigrations } from '../src/postgres.js';
import { RedisSequencerBackend } from '../src/redis.js';
import { type LockBackendHarness, lockBackendConformance } from '../src/testing.js';
import { freshKey, useBackends } from './helpers.js';

const env = useBackends();
const newKey = (start?: number) => freshKey(start);

type Closable = { close: () => Promise<void> };
type LockH = LockBackendHarness & Partial<Closable>;

let cluster: LocalRedisCluster | undefined;
const clusterClient = async (): Promise<Cluster> => {
  cluster ??= await startRedisCluster(3);
  const c = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 2 } });
  await c.set('{warm}', '1');
  return c;
};
const closeCluster = async (c: Cluster) => {
  c.disconnect();
  if (cluster) {
    const stopping = cluster;
    cluster = undefined;
    await stopping.stop();
  }
};

const lockCases: BackendCase<LockH>[] = [
  { name: 'memory', setup: () => ({ lock: new MemoryLockBackend(), newKey, expires: true }) },
  // Once per PostgreSQL client kind (node-postgres, Kysely, Drizzle, postgres.js).
  ...PG_CLIENT_KINDS.map(
    (kind): BackendCase<LockH> => ({
      name: `postgres advisory lock (${kind.name})`,
      needs: 'postgres',
      setup: async () => {
        const { pool, close } = kind.open(env.pgUrl(), { max: 8 });
        await runMigrations(pool, sequencerMigrations);
        return { lock: new PostgresLockBackend({ pool }), newKey, expires: false, close };
      },
      teardown: (h) => h.close?.(),
    }),
  ),
  {
    name: 'redis',
    needs: 'redis',
    setup: () => {
      const redis = new Redis(env.redisUrl());
      return {
        lock: new RedisSequencerBackend({ redis, prefix: env.redisPrefix() }),
        newKey,
        expires: true,
        close: async () => void redis.disconnect(),
      };
    },
    teardown: (h) => h.close?.(),
  },
  {
    name: 'redis cluster (3 local masters)',
    needs: 'redis',
    setup: async () => {
      const c = await clusterClient();
      return {
        lock: new RedisSequencerBackend({ redis: c }),
        newKey,
        expires: true,
        close: () => closeCluster(c),
      };
    },
    teardown: (h) => h.close?.(),
  },
  {
    name: 'mongo',
    needs: 'mongo',
    setup: async () => {
      const client = await new MongoClient(env.mongoUrl()).connect();
      const db = client.db(env.mongoDb());
      await ensureSequencerIndexes(db);
      return { lock: new MongoLockBackend({ db }), newKey, expires: true, close: () => client.close() };
    },
    teardown: (h) => h.close?.(),
  },
];

runConformance('LockBackend', lockCases, (h) => lockBackendConformance(h, { describe, it, expect }));

// The harness contract: a harness may return a fresh backend on every call (one per test).
describe('a fresh-backend-per-call harness', () => {
  lockBackendConformance(() => ({ lock: new MemoryLockBackend(), newKey, expires: true }), {
    describe,
    it,
    expect,
  });
});
