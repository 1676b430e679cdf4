import {
  type BackendCase,
  runConformance,
  startRedisCluster,
  type LocalRedisCluster,
} from '@tenantry/testkit';
import { Cluster, Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { expect, it } from 'vitest';
import { MemoryCounterStore, MemoryLockBackend } from '../src/memory.js';
import { MongoCounterStore, MongoLockBackend, ensureMongoIndexes } from '../src/mongo.js';
import { PostgresAdvisoryLockBackend, PostgresCounterStore, migratePostgres } from '../src/postgres.js';
import { RedisSequencerBackend } from '../src/redis.js';
import {
  type CounterStoreHarness,
  counterStoreConformance,
  type LockBackendHarness,
  lockBackendConformance,
} from '../src/testing.js';
import { freshKey, useBackends } from './helpers.js';

const env = useBackends();
const newKey = (start?: number) => freshKey(start);

type Closable = { close: () => Promise<void> };
type StoreH = CounterStoreHarness & Partial<Closable>;
type LockH = LockBackendHarness & Partial<Closable>;

const pgPool = () => new pg.Pool({ connectionString: env.pgUrl(), max: 8 });
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
  {
    name: 'postgres',
    needs: 'postgres',
    setup: async () => {
      const pool = pgPool();
      await migratePostgres(pool);
      return { store: new PostgresCounterStore(pool), newKey, close: () => pool.end() };
    },
    teardown: (h) => h.close?.(),
  },
  {
    name: 'redis',
    needs: 'redis',
    setup: () => {
      const redis = new Redis(env.redisUrl());
      return {
        store: new RedisSequencerBackend(redis, { prefix: env.redisPrefix() }),
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
      return { store: new RedisSequencerBackend(c), newKey, close: () => closeCluster(c) };
    },
    teardown: (h) => h.close?.(),
  },
  {
    name: 'mongo',
    needs: 'mongo',
    setup: async () => {
      const client = await new MongoClient(env.mongoUrl()).connect();
      const db = client.db(env.mongoDb());
      await ensureMongoIndexes(db);
      return { store: new MongoCounterStore(db), newKey, close: () => client.close() };
    },
    teardown: (h) => h.close?.(),
  },
];

const lockCases: BackendCase<LockH>[] = [
  { name: 'memory', setup: () => ({ lock: new MemoryLockBackend(), newKey, expires: true }) },
  {
    name: 'postgres advisory lock',
    needs: 'postgres',
    setup: async () => {
      const pool = pgPool();
      await migratePostgres(pool);
      return { lock: new PostgresAdvisoryLockBackend(pool), newKey, expires: false, close: () => pool.end() };
    },
    teardown: (h) => h.close?.(),
  },
  {
    name: 'redis',
    needs: 'redis',
    setup: () => {
      const redis = new Redis(env.redisUrl());
      return {
        lock: new RedisSequencerBackend(redis, { prefix: env.redisPrefix() }),
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
      return { lock: new RedisSequencerBackend(c), newKey, expires: true, close: () => closeCluster(c) };
    },
    teardown: (h) => h.close?.(),
  },
  {
    name: 'mongo',
    needs: 'mongo',
    setup: async () => {
      const client = await new MongoClient(env.mongoUrl()).connect();
      const db = client.db(env.mongoDb());
      await ensureMongoIndexes(db);
      return { lock: new MongoLockBackend(db), newKey, expires: true, close: () => client.close() };
    },
    teardown: (h) => h.close?.(),
  },
];

runConformance('CounterStore', storeCases, (h) => counterStoreConformance(h, { it, expect }));
runConformance('LockBackend', lockCases, (h) => lockBackendConformance(h, { it, expect }));
