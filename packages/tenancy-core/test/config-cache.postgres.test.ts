import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TenantConfigCache, createTenantConfigCache, createTenantDirectory } from '../src/index.js';
import {
  PostgresTenantStore,
  coreModelMigrations,
  PostgresInvalidationBus,
  runMigrations,
} from '../src/postgres.js';
import { asTenant, backOffice } from './helpers.js';

const db = hasBackend('postgres') ? useTestDatabase() : { url: () => '', directUrl: () => '' };

describe.skipIf(!hasBackend('postgres'))(
  `config cache on PostgreSQL triggers${skipLabel('postgres')}`,
  () => {
    let pool: pg.Pool;
    let cache: TenantConfigCache;
    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: db.url(), max: 3 });
      await runMigrations(pool, coreModelMigrations);
      const store = new PostgresTenantStore({ pool });
      // No bus for the writer: only the database triggers announce changes.
      const directory = backOffice(createTenantDirectory({ store }));
      await directory.createTenant({ id: 'acme', name: 'Acme' });
      await directory.putPlan({ id: 'pro', name: 'Pro', features: { 'exports.csv': true } });
      await directory.startSubscription({ tenantId: 'acme', planId: 'pro' });
      const bus = new PostgresInvalidationBus({
        pool,
        connect: async () => {
          // LISTEN needs a session: the server itself, even when the suites run through a pooler.
          const c = new pg.Client({ connectionString: db.directUrl() });
          await c.connect();
          return c;
        },
      });
      cache = createTenantConfigCache({ store, bus });
      await cache.start();
    });
    afterAll(async () => {
      await cache?.close();
      await pool?.end();
    });

    it('a write made with raw SQL, by no Tenantry code, is seen on the next read (triggers NOTIFY in the transaction)', async () => {
      await asTenant('acme', () => cache.get());
      expect((await asTenant('acme', () => cache.get()))?.tenant.name).toBe('Acme');
      const hitsBefore = cache.stats().hits;
      expect(hitsBefore).toBeGreaterThan(0);
      await pool.query(`UPDATE tenantry_tenants SET name = 'Renamed by SQL' WHERE id = 'acme'`);
      expect((await asTenant('acme', () => cache.get()))?.tenant.name).toBe('Renamed by SQL');
      await pool.query(`UPDATE tenantry_plans SET features = '{"exports.csv": false}' WHERE id = 'pro'`);
      expect((await asTenant('acme', () => cache.get()))?.plan?.features['exports.csv']).toBe(false);
      await pool.query(`UPDATE tenantry_subscriptions SET status = 'ACTIVE' WHERE tenant_id = 'acme'`);
      expect((await asTenant('acme', () => cache.get()))?.subscription?.status).toBe('ACTIVE');
      await pool.query(
        `INSERT INTO tenantry_platform_settings (id, "values", maintenance, version, updated_at) VALUES ('global', '{}', true, 1, now())`,
      );
      expect((await asTenant('acme', () => cache.get()))?.platform.maintenance).toBe(true);
    });

    it('a write rolled back announces nothing and changes nothing', async () => {
      const before = await asTenant('acme', () => cache.get());
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`UPDATE tenantry_tenants SET name = 'never' WHERE id = 'acme'`);
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      const invalidations = cache.stats().invalidations;
      expect((await asTenant('acme', () => cache.get()))?.tenant.name).toBe(before?.tenant.name);
      expect(cache.stats().invalidations).toBe(invalidations);
    });
  },
);
