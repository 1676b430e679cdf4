import { fileURLToPath } from 'node:url';
import {
  hasBackend,
  type LocalRedisCluster,
  redisClusterUnavailableReason,
  runWorkers,
  skipLabel,
  startRedisCluster,
  uniqueId,
  useRedisPrefix,
  useTestDatabase,
} from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQuotaStore } from '../src/postgres.js';

const worker = fileURLToPath(new URL('./workers/quota-worker.ts', import.meta.url));
const db = useTestDatabase();
const redis = useRedisPrefix();
const WORKERS = 4;
const AT = Date.parse('2026-03-05T12:00:00Z');

interface Report {
  worker: number;
  granted: number;
  refused: number;
}

async function race(backend: string, url: string, prefix: string, limit: number, attemptsPerWorker: number) {
  const tenantId = uniqueId('t');
  const result = await runWorkers({
    script: worker,
    workers: WORKERS,
    args: () => [backend, url, prefix, tenantId, String(limit), String(attemptsPerWorker), String(AT)],
    timeoutMs: 90_000,
  });
  const reports = result.messages as Report[];
  expect(reports).toHaveLength(WORKERS);
  return {
    granted: reports.reduce((s, r) => s + r.granted, 0),
    refused: reports.reduce((s, r) => s + r.refused, 0),
    perWorker: reports.map((r) => r.granted),
  };
}

describe(`quota consumed by ${WORKERS} processes at once [postgres]${skipLabel('postgres')}`, () => {
  beforeAll(async () => {
    if (!hasBackend('postgres')) return;
    const pool = new pg.Pool({ connectionString: db.url(), max: 1 });
    await new PostgresQuotaStore({ pool }).ensureSchema();
    await pool.end();
  });

  it.skipIf(!hasBackend('postgres'))(
    'never grants more than the limit, and grants exactly it when demand exceeds it',
    async () => {
      const r = await race('postgres', db.url(), '', 300, 150); // demand 600 for a limit of 300
      expect(r.granted).toBe(300);
      expect(r.refused).toBe(300);
      // Every process got some: they really raced.
      expect(r.perWorker.filter((g) => g > 0).length).toBeGreaterThan(1);
    },
    120_000,
  );

  it.skipIf(!hasBackend('postgres'))(
    'grants everything when demand stays under the limit',
    async () => {
      const r = await race('postgres', db.url(), '', 1000, 100);
      expect(r.granted).toBe(400);
      expect(r.refused).toBe(0);
    },
    120_000,
  );
});

describe(`quota consumed by ${WORKERS} processes at once [redis]${skipLabel('redis')}`, () => {
  it.skipIf(!hasBackend('redis'))(
    'never grants more than the limit, and grants exactly it when demand exceeds it',
    async () => {
      const r = await race('redis', redis.url(), `${redis.prefix()}mp:`, 500, 400); // demand 1600 for 500
      expect(r.granted).toBe(500);
      expect(r.refused).toBe(1100);
      expect(r.perWorker.filter((g) => g > 0).length).toBeGreaterThan(1);
    },
    120_000,
  );
});

const clusterReason = hasBackend('redis') ? await redisClusterUnavailableReason() : 'redis unavailable';
describe.skipIf(clusterReason !== undefined)(
  `quota consumed by ${WORKERS} processes at once [redis cluster, 3 masters]${clusterReason ? ` [SKIPPED: ${clusterReason}]` : ''}`,
  () => {
    let cluster: LocalRedisCluster | undefined;
    beforeAll(async () => {
      cluster = await startRedisCluster(3);
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    it('never grants more than the limit, and grants exactly it when demand exceeds it', async () => {
      const r = await race('cluster', JSON.stringify(cluster!.nodes), `${uniqueId('q')}:`, 500, 400);
      expect(r.granted).toBe(500);
      expect(r.refused).toBe(1100);
      expect(r.perWorker.filter((g) => g > 0).length).toBeGreaterThan(1);
    }, 120_000);
  },
);
