// Benchmark of @tenantry/vault against PostgreSQL (needs PG_URL or a local server on 5432): one tenant
// with VAULT_BENCH_ROWS rows (default 1,000,000) among twice as many, in one table.
//  1. snapshot (the table module's COPY … TO STDOUT, gzip, AES-GCM chunks, SHA-256, file-system storage,
//     snapshot record) vs the bare `COPY (SELECT … WHERE tenant_id = …) TO STDOUT` piped through gzip
//     into a file;
//  2. restore (read + verify the whole snapshot, then clean + COPY FROM in one transaction) vs the bare
//     file → gunzip → `COPY … FROM STDIN` after a DELETE of the tenant's rows, in one transaction;
//  3. peak RSS of the process during our snapshot and restore, against the 300 MB target.
// Rows/s and MB/s count the same rows and the same bytes (the tenant's COPY text) on both sides.
// VAULT_BENCH_ROWS=20000 makes a smoke run; BENCH_ROUNDS (default 1) alternating rounds per side.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { MemoryAuditPort, runAsSystem } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import { createFieldCrypto, localKeyProvider } from '@tenantry/crypto-fields';
import { MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { type BenchRow, printBench } from '@tenantry/testkit/bench';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { FileSystemSnapshotStorage } from '@tenantry/vault/fs';
import { createModuleRegistry, createVault } from '@tenantry/vault';
import {
  PostgresSnapshotRecordStore,
  createPostgresTransactionScope,
  postgresTableModule,
  vaultMigrations,
} from '@tenantry/vault/postgres';

const ROWS = Number(process.env.VAULT_BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const RSS_TARGET_MB = 300;
const TENANT = 'bench';
const baseUrl = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `vault_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(baseUrl);
url.pathname = `/${dbName}`;
const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
pool.on('error', () => undefined);
const dir = mkdtempSync(join(tmpdir(), 'vault-bench-'));

const MB = 1024 * 1024;
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);
sampler.unref();

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

try {
  await pool.query(`
    CREATE TABLE items (
      tenant_id text NOT NULL,
      id bigint NOT NULL,
      sku text NOT NULL,
      title text NOT NULL,
      amount numeric(12, 2) NOT NULL,
      created_at timestamptz NOT NULL,
      note text,
      PRIMARY KEY (tenant_id, id)
    )`);
  for (const tenant of [TENANT, 'other']) {
    await pool.query(
      `INSERT INTO items
       SELECT $1, g, 'SKU-' || lpad(g::text, 8, '0'), 'Item number ' || g || ' of the catalogue',
              (g % 100000) / 100.0, timestamptz '2026-01-01' + g * interval '1 second',
              CASE WHEN g % 3 = 0 THEN NULL ELSE md5(g::text) END
         FROM generate_series(1, $2::bigint) g`,
      [tenant, ROWS],
    );
  }
  await pool.query('VACUUM ANALYZE items');
  await runMigrations(pool, vaultMigrations);

  const scope = createPostgresTransactionScope(pool, { requireRls: false });
  const registry = createModuleRegistry([postgresTableModule(scope, { table: 'items' })]);
  const storage = new FileSystemSnapshotStorage({ root: join(dir, 'vault') });
  const audit = new MemoryAuditPort();
  const vault = createVault({
    registry,
    storage,
    records: new PostgresSnapshotRecordStore({ pool }),
    crypto: createFieldCrypto({
      provider: localKeyProvider({ keys: { k1: randomBytes(32).toString('base64') }, primary: 'k1' }),
      store: new MemoryDataKeyStore(),
    }),
    audit,
  });
  const system = <R>(fn: () => Promise<R>) =>
    runAsSystem({ actor: { id: 'bench', kind: 'service' }, reason: 'vault benchmark' }, audit, fn);

  const columns = 'id, sku, title, amount, created_at, note';
  let copyBytes = 0;
  const baseFile = join(dir, 'baseline.copy.gz');
  const bareSnapshot = async (): Promise<void> => {
    const client = await pool.connect();
    try {
      let bytes = 0;
      const source = client.query(
        copyStreams.to(
          `COPY (SELECT tenant_id, ${columns} FROM items WHERE tenant_id = '${TENANT}') TO STDOUT`,
        ),
      );
      source.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      await pipeline(source, createGzip(), createWriteStream(baseFile));
      copyBytes = bytes;
    } finally {
      client.release();
    }
  };
  const bareRestore = async (): Promise<void> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('DELETE FROM items WHERE tenant_id = $1', [TENANT]);
      const sink = client.query(
        copyStreams.from(`COPY items (tenant_id, ${columns}) FROM STDIN`),
      ) as unknown as Writable;
      await pipeline(createReadStream(baseFile), createGunzip(), sink);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  };

  const ours = { snapshot: [] as number[], restore: [] as number[] };
  const bare = { snapshot: [] as number[], restore: [] as number[] };
  let snapshotId = '';
  let rssBefore = 0;
  let oursPeak = 0;
  for (let r = 0; r < ROUNDS; r++) {
    bare.snapshot.push(await timed(bareSnapshot));
    rssBefore = process.memoryUsage.rss();
    peakRss = rssBefore;
    ours.snapshot.push(
      await timed(async () => {
        snapshotId = (await system(() => vault.snapshot({ tenantId: TENANT }))).snapshotId;
      }),
    );
    ours.restore.push(await timed(() => system(() => vault.restore({ tenantId: TENANT, snapshotId }))));
    oursPeak = Math.max(oursPeak, peakRss);
    bare.restore.push(await timed(bareRestore));
  }
  const count = await pool.query<{ n: string }>('SELECT count(*) AS n FROM items WHERE tenant_id = $1', [
    TENANT,
  ]);
  if (Number(count.rows[0]?.n) !== ROWS)
    throw new Error(`restore left ${count.rows[0]?.n} rows, expected ${ROWS}`);

  const label = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
  const size = label(ROWS);
  const size2 = label(ROWS * 2);
  const row = (workload: string, unit: string, o: number, b: number): BenchRow => ({
    workload,
    ours: o,
    baseline: b,
    unit,
    ratio: o / b,
  });
  const rows: BenchRow[] = [
    row(
      `snapshot, ${size} of ${size2} rows`,
      'rows/s',
      ROWS / median(ours.snapshot),
      ROWS / median(bare.snapshot),
    ),
    row(
      `snapshot, ${size} rows (COPY text)`,
      'MB/s',
      copyBytes / MB / median(ours.snapshot),
      copyBytes / MB / median(bare.snapshot),
    ),
    row(
      `restore, ${size} of ${size2} rows`,
      'rows/s',
      ROWS / median(ours.restore),
      ROWS / median(bare.restore),
    ),
    row(
      `restore, ${size} rows (COPY text)`,
      'MB/s',
      copyBytes / MB / median(ours.restore),
      copyBytes / MB / median(bare.restore),
    ),
    // Lower is better here: the baseline column is the 300 MB target, the ratio target ÷ peak (≥ 1 = within).
    {
      workload: `peak RSS, snapshot + restore of ${size} rows (target)`,
      ours: oursPeak / MB,
      baseline: RSS_TARGET_MB,
      unit: 'MB',
      ratio: RSS_TARGET_MB / (oursPeak / MB),
    },
  ];
  printBench(
    `@tenantry/vault: one tenant of ${ROWS.toLocaleString('en-US')} rows among ${(ROWS * 2).toLocaleString('en-US')} (gzip, file-system storage; RSS before: ${Math.round(rssBefore / MB)} MB)`,
    rows,
  );
} finally {
  clearInterval(sampler);
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
