import { useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ManualClock, createQuotas } from '../src/index.js';
import {
  PostgresQuotaStore,
  coreModelMigrations,
  coreQuotaMigrations,
  runMigrations,
} from '../src/postgres.js';
import { hasBackend, skipLabel } from '@tenantry/testkit';
import { asTenant } from './helpers.js';

describe.skipIf(!hasBackend('postgres'))(
  `quota table as a versioned migration${skipLabel('postgres')}`,
  () => {
    const db = useTestDatabase();

    it('applies once next to the model migrations, and the quota store works on it', async () => {
      const pool = new pg.Pool({ connectionString: db.url(), max: 2 });
      pool.on('error', () => undefined);
      try {
        const first = await runMigrations(pool, [...coreModelMigrations, ...coreQuotaMigrations]);
        const again = await runMigrations(pool, [...coreModelMigrations, ...coreQuotaMigrations]);
        expect(JSON.stringify(first)).toContain('core-quota');
        expect(JSON.stringify(again)).not.toContain('"core-quota"');
        const { rows } = await pool.query(
          "SELECT version FROM tenantry_core_migrations WHERE component = 'core-quota'",
        );
        expect(rows).toEqual([{ version: 1 }]);
        const quotas = createQuotas({
          store: new PostgresQuotaStore({ pool }),
          quotas: { emails: { window: 'day', defaultLimit: 1 } },
          clock: new ManualClock('2026-03-05T10:00:00Z'),
        });
        expect((await asTenant('acme', () => quotas.tryConsume('emails'))).ok).toBe(true);
        expect((await asTenant('acme', () => quotas.tryConsume('emails'))).ok).toBe(false);
      } finally {
        await pool.end();
      }
    });
  },
);
