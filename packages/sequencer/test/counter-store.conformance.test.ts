import {
  type BackendCase,
  runConformance,
  startRedisCluster,
  type LocalRedisCluster,
} from '@tenantry/testkit';
import { PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import { Cluster, Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MemoryCounterStore } from '../src/memory.js';
import { ensureSequencerIndexes, MongoCounterStore } from '../src/mongo.js';
import { runMigrations } from '@tenantry/core/postgres';
import { PostgresCounterStore, sequencerMigrations } from '../src/postgres.js';
import { RedisSequencerBackend } from '../src/redis.js';
import { type CounterStoreHarness, counterStoreConformance } from '../src/testing.js';
import { freshKey, useBackends } from './helpers.js';

const env = useBackends();
const newKey = (start?: number) => freshKey(start);

type Closable = { close: () => Promise<void> };
type StoreH = CounterStoreHarness & Partial<Closable>;

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

const storeCases: BackendCase<StoreH>[] = [
  { name: 'memory', setup: () => ({ store: new MemoryCounterStore(), newKey }) },
  // Once per PostgreSQL client kind (node-postgres, Kysely, Drizzle, postgres.js).
  ...PG_CLIENT_KINDS.map(
    (kind): BackendCase<StoreH> => ({
      name: `postgres (${kind.name})`,
      needs: 'postgres',
      setup: async () => {
        const { pool, close } = kind.open(env.pgUrl(), { max: 8 });
        await runMigrations(pool, sequencerMigrations);
        return { store: new PostgresCounterStore({ pool }), newKey, close };
      },
      teardown: (h) => h.close?.(),
    }),
  ),
  // A session whose DateStyle is not ISO: dates still come back as YYYY-MM-DD (to_char, not ::text).
  {
    name: 'postgres (node-postgres, DateStyle=SQL,DMY)',
    needs: 'postgres',
    setup: async () => {
      // A startup setting: on the server directly (a transaction-mode pooler refuses startup options).
      const pool = new pg.Pool({
        connectionString: env.pgDirectUrl(),
        max: 8,
        options: '-c DateStyle=SQL,DMY',
      });
      await runMigrations(pool, sequencerMigrations);
      return { store: new PostgresCounterStore({ pool }), newKey, close: () => pool.end() };
    },
    teardown: (h) => h.close?.(),
  },
  {
    name: 'redis',
    needs: 'redis',
    setup: () => {
      const redis = new Redis(env.redisUrl());
      return {
        store: new RedisSequencerBackend({ redis, prefix: env.redisPrefix() }),
        newKey,
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
      return { store: new RedisSequencerBackend({ redis: c }), newKey, close: () => closeCluster(c) };
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
      return { store: new MongoCounterStore({ db }), newKey, close: () => client.close() };
    },
    teardown: (h) => h.close?.(),
  },
];

runConformance('CounterStore', storeCases, (h) => counterStoreConformance(h, { describe, it, expect }));

// The harness contract: a harness may return a fresh backend on every call (one per test).
describe('a fresh-backend-per-call harness', () => {
  counterStoreConformance(() => ({ store: new MemoryCounterStore(), newKey }), { describe, it, expect });
});
