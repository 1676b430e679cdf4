// Sealing with many tenants in use: 10,000 tenants round-robin against one tenant, over the PostgreSQL
// key store, with the default cache (10,000 tenants). Issue 12: the former cache counted two entries per
// tenant, so past ~500 tenants every seal was a store read plus an unwrap (3–8k seals/s instead of
// 30–65k). Here each tenant's key is loaded once; the ratio shows what remains of having 10,000 tenants
// cached instead of one (a larger map, colder CPU caches). Also prints the cache's memory per tenant.
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryAuditPort, runAsSystem } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import { createFieldCrypto, localKeyProvider } from '@tenantry/crypto-fields';
import { PostgresDataKeyStore, cryptoFieldsMigrations } from '@tenantry/crypto-fields/postgres';
import { resolveBackend, uniqueId, withDatabase } from '@tenantry/testkit';
import { type BenchRow, compare, printBench } from '@tenantry/testkit/bench';
import pg from 'pg';

const TENANTS = 10_000;
const durationMs = Number(process.env.BENCH_MS ?? 700);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const status = await resolveBackend('postgres');
if (!status.available) throw new Error(`postgres unavailable: ${status.reason}`);
const dbName = uniqueId('bench');
const admin = new pg.Client({ connectionString: status.url });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const pool = new pg.Pool({ connectionString: withDatabase(status.url, dbName), max: 8 });
pool.on('error', () => undefined);
const rows: BenchRow[] = [];

try {
  await runMigrations(pool, cryptoFieldsMigrations);
  const fields = createFieldCrypto({
    provider: localKeyProvider({ keys: { k: randomBytes(32).toString('base64') }, primary: 'k' }),
    store: new PostgresDataKeyStore({ pool }),
  });
  const at = Array.from({ length: TENANTS }, (_, i) => ({
    tenantId: `tenant-${i}`,
    collection: 'settings',
    field: 'smtpPassword',
    rowId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  }));
  const value = `sk_live_${randomBytes(28).toString('hex')}`; // 64 characters
  // Back-office code that names tenants runs inside the audited system scope (invariant T1); both sides
  // run in the same scope, entered once.
  await runAsSystem(
    { actor: { id: 'bench', kind: 'service' }, reason: 'benchmark' },
    new MemoryAuditPort(),
    async () => {
      // First use creates and caches every tenant's data key.
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      for (let i = 0; i < TENANTS; i += 100) {
        await Promise.all(at.slice(i, i + 100).map((c) => fields.seal(value, c)));
      }
      gc();
      const perTenant = (process.memoryUsage().heapUsed - heapBefore) / TENANTS;
      const stats = fields.keys.cacheStats();
      console.log(
        `key cache: ${stats.tenants} tenants, ${stats.keys} keys cached, ≈ ${Math.round(perTenant)} bytes of heap per tenant`,
      );
      let next = 0;
      const u0 = fields.keys.cacheStats().unwraps;
      rows.push(
        await compare({
          workload: `seal 64 B: ${TENANTS.toLocaleString('en-US')} tenants round-robin vs one tenant (PostgreSQL key store, default cache)`,
          unit: 'seals/s',
          durationMs,
          rounds,
          batch: 20,
          ours: () => fields.seal(value, at[next++ % TENANTS]!),
          baseline: () => fields.seal(value, at[0]!),
        }),
      );
      const after = fields.keys.cacheStats();
      console.log(
        `during the comparison: ${after.unwraps - u0} unwraps, ${after.evictions} evictions, ${after.hits.toLocaleString('en-US')} hits`,
      );
    },
  );
  printBench('@tenantry/crypto-fields: many tenants (ratio = ours ÷ baseline)', rows);
} finally {
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
