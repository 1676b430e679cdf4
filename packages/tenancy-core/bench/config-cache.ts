// Reading a tenant's configuration (tenant row, live subscription, its plan, platform settings)
// through the cross-process cache, against the best plain way to get the same data by hand: one
// hand-written, prepared query joining the four tables, on the same pool, measured in the same run.
// Run: npm run bench -- tenancy-core
import { randomBytes } from 'node:crypto';
import {
  createGatekeeper,
  createTenantConfigCache,
  createTenantDirectory,
  type InvalidationBus,
  noopAuditPort,
  runAsSystem,
} from '@tenantry/core';
import {
  PostgresTenantStore,
  coreModelMigrations,
  PostgresInvalidationBus,
  runMigrations,
} from '@tenantry/core/postgres';
import { RedisInvalidationBus } from '@tenantry/core/redis';
import { type BenchRow, compare, printBench } from '@tenantry/testkit/bench';
import { Redis } from 'ioredis';
import pg from 'pg';

const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dbName = `bench_cfg_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(base);
url.pathname = `/${dbName}`;
const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
// pg requires a handler for errors of idle clients (e.g. a server-side terminate).
pool.on('error', (e) => console.error(`idle pg client error: ${e.message}`));
const redis = new Redis(redisUrl);
const subscriber = new Redis(redisUrl);
const rows: BenchRow[] = [];

try {
  // Back-office measurement across many tenants: the audited system scope (T1) lets it name each one.
  await runAsSystem(
    { actor: { id: 'bench', kind: 'service' }, reason: 'benchmark' },
    noopAuditPort,
    async () => {
      await runMigrations(pool, coreModelMigrations);
      const store = new PostgresTenantStore({ pool });
      const directory = createTenantDirectory({ store });
      await directory.putPlan({ id: 'pro', name: 'Pro', features: { 'exports.csv': true } });
      for (let i = 0; i < 1000; i++) {
        await directory.createTenant({ id: `t${i}`, name: `T${i}`, settings: { 'ui.theme': 'dark' } });
        await directory.activateTenant(`t${i}`);
        await directory.startSubscription({ tenantId: `t${i}`, planId: 'pro', status: 'ACTIVE' });
        await directory.acceptTerms({ tenantId: `t${i}`, userId: 'u1', version: '2026-01' });
      }
      await directory.updatePlatformSettings({ values: {} });
      let n = 0;
      const nextTenant = (): string => `t${n++ % 1000}`;

      // Baseline: the same data in one round trip, written by hand.
      // A named (prepared) statement, so the baseline does not pay for planning on every call.
      const byHand = () =>
        pool.query({
          name: 'bench-config',
          text: `SELECT t.*, s.id AS s_id, s.status AS s_status, s.plan_id, p.features, p.quotas, g."values", g.maintenance AS g_maintenance
         FROM tenantry_tenants t
         LEFT JOIN tenantry_subscriptions s ON s.tenant_id = t.id AND s.status <> 'CANCELED'
         LEFT JOIN tenantry_plans p ON p.id = s.plan_id
         LEFT JOIN tenantry_platform_settings g ON g.id = 'global'
        WHERE t.id = $1`,
          values: [nextTenant()],
        });

      const pgBus = new PostgresInvalidationBus({
        pool,
        connect: async () => {
          const c = new pg.Client({ connectionString: url.toString() });
          await c.connect();
          return c;
        },
      });
      const redisBus = new RedisInvalidationBus({ redis, subscriber });
      const cases: Array<[string, InvalidationBus, 'strict' | 'eventual']> = [
        ['PostgreSQL LISTEN/NOTIFY, strict (SELECT 1 barrier per read)', pgBus, 'strict'],
        ['Redis pub/sub, strict (PING barrier per read)', redisBus, 'strict'],
        ['PostgreSQL LISTEN/NOTIFY, eventual (no round trip)', pgBus, 'eventual'],
      ];
      for (const [label, bus, consistency] of cases) {
        const cache = createTenantConfigCache({ store, bus, consistency });
        await cache.start();
        for (let i = 0; i < 1000; i++) await cache.get(`t${i}`); // warm: 1,000 tenants cached
        for (const concurrency of [1, 16]) {
          rows.push(
            await compare({
              workload: `tenant config read, 1,000 tenants, ${concurrency} in flight: cache over ${label} vs one hand-written 4-table JOIN on pg`,
              unit: 'reads/s',
              concurrency,
              ours: () => cache.get(nextTenant()),
              baseline: byHand,
            }),
          );
        }
        if (consistency === 'strict' && bus === pgBus) {
          const gate = createGatekeeper({ config: cache, terms: { currentVersion: '2026-01' } });
          rows.push(
            await compare({
              workload:
                'gatekeeper.check (cached config over PostgreSQL strict + terms read) vs one hand-written JOIN incl. the agreement row',
              unit: 'checks/s',
              concurrency: 16,
              ours: () =>
                gate.check({ tenantId: nextTenant(), actor: { id: 'u1', roles: ['USER'] }, access: 'write' }),
              baseline: () =>
                pool.query({
                  name: 'bench-gate',
                  text: `SELECT t.status, t.maintenance, s.status AS s_status, g.maintenance AS g_maintenance, a.version AS accepted
                 FROM tenantry_tenants t
                 LEFT JOIN tenantry_subscriptions s ON s.tenant_id = t.id AND s.status <> 'CANCELED'
                 LEFT JOIN tenantry_platform_settings g ON g.id = 'global'
                 LEFT JOIN LATERAL (SELECT version FROM tenantry_agreements a
                    WHERE a.tenant_id = t.id AND a.user_id = 'u1' AND a.document = 'terms-of-service'
                    ORDER BY accepted_at DESC LIMIT 1) a ON true
                WHERE t.id = $1`,
                  values: [nextTenant()],
                }),
            }),
          );
        }
        await cache.close();
      }
      printBench('@tenantry/core tenant configuration cache', rows);
    },
  );
} finally {
  await pool.end();
  redis.disconnect();
  subscriber.disconnect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
