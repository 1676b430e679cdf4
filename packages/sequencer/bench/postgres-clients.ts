// PostgreSQL through each client kind: gapless allocations per second, each in its own transaction that
// also inserts the document.
// ours     = seq.next(series, { tx }) + INSERT, in a transaction opened by the client library itself
//            (BEGIN on a pg client, Kysely's db.transaction(), Drizzle's db.transaction(), postgres.js
//            sql.begin()), `tx` being the library's transaction through its @tenantry/core adapter
// baseline = the same work written by hand through node-postgres (counter row UPDATE … RETURNING +
//            INSERT, in BEGIN … COMMIT), the same baseline for every kind
// The database runs with synchronous_commit=off (every side alike), so the disk's fsync does not drown
// the cost of the client library and the adapter. `BENCH_CLIENTS` (default 1,8) sets the concurrency.
import { runAsTenant } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import { resolveBackend, uniqueId, withDatabase } from '@tenantry/testkit';
import { type BenchRow, compare, printBench } from '@tenantry/testkit/bench';
import { PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import pg from 'pg';
import { defineSeries } from '@tenantry/sequencer';
import { createPostgresSequencer, sequencerMigrations } from '@tenantry/sequencer/postgres';

const status = await resolveBackend('postgres');
if (!status.available) throw new Error(`postgres unavailable: ${status.reason}`);
const dbName = uniqueId('bench');
const admin = new pg.Client({ connectionString: status.url });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
await admin.query(`ALTER DATABASE ${dbName} SET synchronous_commit = off`);
const url = withDatabase(status.url, dbName);
const DURATION = Number(process.env.BENCH_MS ?? 700);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const asTenant = <R>(tenantId: string, fn: () => R): R =>
  runAsTenant({ tenantId, actor: { id: 'bench' } }, fn);
const invoices = defineSeries({ key: 'invoice' });
const insertDoc = 'INSERT INTO docs (tenant, series, period, number) VALUES ($1, $2, $3, $4)';
const setup = new pg.Pool({ connectionString: url, max: 2 });
setup.on('error', () => undefined);

try {
  await runMigrations(setup, sequencerMigrations);
  await setup.query(`
    CREATE TABLE docs (tenant text NOT NULL, series text NOT NULL, period text NOT NULL, number bigint NOT NULL,
      PRIMARY KEY (tenant, series, period, number));
    CREATE TABLE hand_counters (tenant text NOT NULL, series text NOT NULL, last_value bigint NOT NULL,
      PRIMARY KEY (tenant, series));`);
  const handPool = new pg.Pool({ connectionString: url, max: 34 });
  handPool.on('error', () => undefined);
  const handWritten = async (tenant: string) => {
    await setup.query("INSERT INTO hand_counters VALUES ($1, 'invoice', 0)", [tenant]);
    return async () => {
      const c = await handPool.connect();
      try {
        await c.query('BEGIN');
        const { rows } = await c.query<{ last_value: string }>(
          'UPDATE hand_counters SET last_value = last_value + 1 WHERE tenant = $1 AND series = $2 RETURNING last_value',
          [tenant, 'invoice'],
        );
        await c.query(insertDoc, [tenant, 'invoice', '', rows[0]?.last_value]);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    };
  };

  const seq = createPostgresSequencer();
  const rows: BenchRow[] = [];
  for (const kind of PG_CLIENT_KINDS) {
    const client = kind.open(url, { max: 34 });
    try {
      const ours = () =>
        client.transaction(async (tx) => {
          const n = await seq.next(invoices, { tx });
          await tx.query(insertDoc, [n.tenant, n.series, n.period, n.number]);
        });
      for (const clients of (process.env.BENCH_CLIENTS ?? '1,8').split(',').map(Number)) {
        const hand = await handWritten(uniqueId('h'));
        rows.push(
          await asTenant(uniqueId('o').replace(/_/g, '-'), () =>
            compare({
              workload: `postgres through ${kind.name} vs hand-written SQL through node-postgres, ${clients} client${clients === 1 ? '' : 's'}`,
              unit: 'allocations/s',
              concurrency: clients,
              durationMs: DURATION,
              rounds: ROUNDS,
              ours,
              baseline: hand,
            }),
          ),
        );
      }
    } finally {
      await client.close();
    }
  }
  await handPool.end();
  printBench('sequencer: PostgreSQL through each client kind (synchronous_commit=off)', rows);
} finally {
  await setup.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
