import { isTenantryError } from '@tenantry/core';
import type { PgPoolLike } from '@tenantry/core';
import { backendStatus, hasBackend, skipLabel } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModuleRegistry, createVault } from '../src/index.js';
import { MemorySnapshotRecordStore, MemorySnapshotStorage } from '../src/memory.js';
import { createPostgresTransactionScope, postgresTableModule } from '../src/postgres.js';
import { asTenant, newCrypto } from './helpers.js';
import { useAppDatabases } from './pg-helpers.js';

const serverUrl = (): string => {
  const s = backendStatus('postgres');
  return s.available ? s.url : '';
};
const databases = hasBackend('postgres') ? useAppDatabases(serverUrl, 1) : () => [];

describe.skipIf(!hasBackend('postgres'))(
  `PostgreSQL scope on a pipelined pool${skipLabel('postgres')}`,
  () => {
    let pipelined: pg.Pool;

    beforeAll(async () => {
      const [db] = databases() as [{ admin: pg.Pool; app: pg.Pool }];
      const url = (db.app as unknown as { options: { connectionString: string } }).options.connectionString;
      pipelined = new pg.Pool({ connectionString: url, max: 1, pipeline: true } as pg.PoolConfig);
      pipelined.on('error', () => undefined);
    });
    afterAll(async () => {
      await pipelined?.end();
    });

    const expectPipelineRefused = (error: unknown): void => {
      expect(isTenantryError(error, 'VAULT_CONFIG_INVALID')).toBe(true);
      expect((error as { details: unknown }).details).toEqual({ reason: 'pipeline' });
      expect((error as Error).message).toMatch(/separate pool made without \{ pipeline: true \}/);
    };

    it('createPostgresTransactionScope refuses a pg.Pool made with { pipeline: true } up front', () => {
      let error: unknown;
      try {
        createPostgresTransactionScope(pipelined);
      } catch (e) {
        error = e;
      }
      expectPipelineRefused(error);
    });

    it('a pool that hides its options is refused when a run gets a pipelined connection', async () => {
      const hidden: PgPoolLike = { connect: () => pipelined.connect() } as unknown as PgPoolLike;
      const scope = createPostgresTransactionScope(hidden);
      const registry = createModuleRegistry([postgresTableModule(scope, { table: 'users' })]);
      const vault = createVault({
        registry,
        storage: new MemorySnapshotStorage(),
        records: new MemorySnapshotRecordStore(),
        crypto: newCrypto(),
      });
      const error = await asTenant('acme', () => vault.snapshot()).catch((e) => e);
      expectPipelineRefused(error);
      expect(pipelined.idleCount + pipelined.waitingCount).toBeLessThanOrEqual(1);
      expect(pipelined.totalCount - pipelined.idleCount).toBe(0);
    });
  },
);
