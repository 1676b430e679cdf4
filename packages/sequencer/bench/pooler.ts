// PostgreSQL behind PgBouncer in transaction mode (issue 19): gapless allocations per second, each in its
// own transaction that also inserts the document, every connection going through the pooler.
// ours     = createPostgresSequencer().next() (defaults) + INSERT, in BEGIN … COMMIT, through the pooler
// baseline = the same work written by hand (counter row UPDATE … RETURNING + INSERT) through the pooler,
//            with unnamed statements: named ones fail behind PgBouncer < 1.21 in transaction mode. Its
//            counter is keyed like ours (tenant, series, period) and it inserts the same document, in the
//            same transaction shape: BEGIN, UPDATE, INSERT, COMMIT (4 round trips on both sides; ours adds
//            the lock_timeout that bounds its wait, inside the UPDATE).
// The common call (no issue date) is measured; an issue date adds the date terms to ours' UPDATE (and a
// chronological series its check).
// The last rows justify the default off the pooler: on a direct connection, the default (unnamed
// statements) against `namedStatements: true` (PostgreSQL parses the statements once per connection).
// Needs a pooler: PG_POOLER_URL, or one on 127.0.0.1:6432 (`.ci/pgbouncer` starts one).
import { runAsTenant } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import { type BenchRow, compare, printBench } from '@tenantry/testkit/bench';
import { requiredBackends, resolveBackend, uniqueId, withDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { defineSeries, type Series } from '@tenantry/sequencer';
import { createPostgresSequencer, sequencerMigrations } from '@tenantry/sequencer/postgres';

const direct = await resolveBackend('postgres');
const pooler = await resolveBackend('pgbouncer');
if (!direct.available) throw new Error(`postgres unavailable: ${direct.reason}`);
if (!pooler.available) {
  if (requiredBackends().has('pgbouncer')) throw new Error(`pgbouncer unavailable: ${pooler.reason}`);
  console.log(`(skipped: pgbouncer unavailable: ${pooler.reason})`);
  process.exit(0);
}
const dbName = uniqueId('bench');
const admin = new pg.Client({ connectionString: direct.url });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const directUrl = withDatabase(direct.url, dbName);
const pooledUrl = withDatabase(pooler.url, dbName);
const DURATION = Number(process.env.BENCH_MS ?? 700);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MODES =
  (process.env.BENCH_SYNC ?? 'both') === 'both' ? ['on', 'off'] : [process.env.BENCH_SYNC ?? 'on'];
const asTenant = <R>(tenantId: string, fn: () => R): R =>
  runAsTenant({ tenantId, actor: { id: 'bench' } }, fn);
const invoices = defineSeries({ key: 'invoice' });
const insertDoc = 'INSERT INTO docs (tenant, series, period, number) VALUES ($1, $2, $3, $4)';
const setup = new pg.Pool({ connectionString: directUrl, max: 2 });
setup.on('error', () => undefined);
const pools: pg.Pool[] = [];

try {
  await runMigrations(setup, sequencerMigrations);
  await setup.query(`
    CREATE TABLE docs (tenant text NOT NULL, series text NOT NULL, period text NOT NULL, number bigint NOT NULL,
      PRIMARY KEY (tenant, series, period, number));
    CREATE TABLE hand_counters (tenant text NOT NULL, series text NOT NULL, period text NOT NULL,
      last_value bigint NOT NULL, PRIMARY KEY (tenant, series, period));`);

  const poolOf = (url: string): pg.Pool => {
    const pool = new pg.Pool({ connectionString: url, max: 34 });
    pool.on('error', () => undefined);
    pools.push(pool);
    return pool;
  };
  let begin = 'BEGIN';
  const inTx = (pool: pg.Pool) => async (fn: (c: pg.PoolClient) => Promise<void>) => {
    const c = await pool.connect();
    try {
      await c.query(begin);
      await fn(c);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  };
  const ours = (pool: pg.Pool, seq: ReturnType<typeof createPostgresSequencer>, series: () => Series) => () =>
    inTx(pool)(async (c) => {
      const n = await seq.next(series(), { tx: c });
      await c.query(insertDoc, [n.tenant, n.series, n.period, n.number]);
    });
  const handWritten = async (pool: pg.Pool, tenant: string) => {
    await setup.query("INSERT INTO hand_counters VALUES ($1, 'invoice', '', 0)", [tenant]);
    return () =>
      inTx(pool)(async (c) => {
        const { rows } = await c.query<{ last_value: string }>(
          'UPDATE hand_counters SET last_value = last_value + 1 WHERE tenant = $1 AND series = $2 AND period = $3 RETURNING last_value',
          [tenant, 'invoice', ''],
        );
        await c.query(insertDoc, [tenant, 'invoice', '', rows[0]?.last_value]);
      });
  };

  const rows: BenchRow[] = [];
  const unit = 'allocations/s';
  const clientsList = (process.env.BENCH_CLIENTS ?? '1,8,32').split(',').map(Number);
  const pooled = poolOf(pooledUrl);
  const directPool = poolOf(directUrl);
  const defaults = createPostgresSequencer();
  const named = createPostgresSequencer({ namedStatements: true });
  for (const mode of MODES) {
    // synchronous_commit=off for every side alike (set in the same round trip as BEGIN: the pooler drops
    // the `options` startup parameter) takes the disk's fsync, shared by every process here, out of the
    // measurement and shows the cost of the allocation itself.
    begin = mode === 'off' ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN';
    const tag = mode === 'off' ? ', synchronous_commit=off' : '';
    for (const clients of clientsList) {
      const hand = await handWritten(pooled, uniqueId('h'));
      rows.push(
        await asTenant(uniqueId('p').replace(/_/g, '-'), () =>
          compare({
            workload: `pgbouncer transaction mode: postgres vs hand-written SQL, ${clients} client${clients === 1 ? '' : 's'}${tag}`,
            unit,
            concurrency: clients,
            durationMs: DURATION,
            rounds: ROUNDS,
            ours: ours(pooled, defaults, () => invoices),
            baseline: hand,
          }),
        ),
      );
    }
    for (const clients of clientsList) {
      rows.push(
        await asTenant(uniqueId('d').replace(/_/g, '-'), () =>
          compare({
            workload: `direct: postgres default (unnamed statements) vs namedStatements: true, ${clients} client${clients === 1 ? '' : 's'}${tag}`,
            unit,
            concurrency: clients,
            durationMs: DURATION,
            rounds: ROUNDS,
            ours: ours(directPool, defaults, () => invoices),
            baseline: ours(directPool, named, () => invoices),
          }),
        ),
      );
    }
  }
  printBench(
    '@tenantry/sequencer: PostgreSQL behind PgBouncer in transaction mode (each allocation in its own transaction with its document)',
    rows,
  );
} finally {
  for (const p of pools) await p.end();
  await setup.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
