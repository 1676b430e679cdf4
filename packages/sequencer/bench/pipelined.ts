// PostgreSQL with `pg` in pipeline mode (`new pg.Pool({ pipeline: true })`, issues 18 and 20): the
// sequencer runs the transaction (`withNumber`) and writes BEGIN with the locking statement, and COMMIT
// right behind a write that hands back its INSERT unawaited (two round trips per document); in combining
// mode each savepoint goes out with its write. Baseline: the hand-written counter-row SQL (BEGIN, UPDATE …
// RETURNING, INSERT, COMMIT), each statement awaited, on an ordinary pool. Same named INSERT on both sides.
import { runAsTenant } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import { type BenchRow, compare, printBench } from '@tenantry/testkit/bench';
import { resolveBackend, uniqueId, withDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { defineSeries } from '@tenantry/sequencer';
import { createPostgresSequencer, sequencerMigrations } from '@tenantry/sequencer/postgres';

const status = await resolveBackend('postgres');
if (!status.available) throw new Error(`postgres unavailable: ${status.reason}`);
const dbName = uniqueId('bench');
const admin = new pg.Client({ connectionString: status.url });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = withDatabase(status.url, dbName);
const DURATION = Number(process.env.BENCH_MS ?? 700);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// `BENCH_SYNC=on|off|both` (default both), as in postgres.ts: durable commits, and synchronous_commit=off
// for both sides alike (takes the shared disk's fsync out of the measurement).
const MODES =
  (process.env.BENCH_SYNC ?? 'both') === 'both' ? ['on', 'off'] : [process.env.BENCH_SYNC ?? 'on'];
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,8,32').split(',').map(Number);
const asTenant = <R>(tenantId: string, fn: () => R): R =>
  runAsTenant({ tenantId, actor: { id: 'bench' } }, fn);
const setup = new pg.Pool({ connectionString: url, max: 2 });
setup.on('error', () => undefined);
const insertDoc = 'INSERT INTO docs (tenant, series, period, number) VALUES ($1, $2, $3, $4)';

try {
  await runMigrations(setup, sequencerMigrations);
  await setup.query(`
    CREATE TABLE docs (tenant text NOT NULL, series text NOT NULL, period text NOT NULL, number bigint NOT NULL,
      PRIMARY KEY (tenant, series, period, number));
    CREATE TABLE hand_counters (tenant text NOT NULL, series text NOT NULL, last_value bigint NOT NULL,
      PRIMARY KEY (tenant, series));`);
  const rows: BenchRow[] = [];
  for (const mode of MODES) {
    const tag = mode === 'off' ? ', synchronous_commit=off' : '';
    const opts = mode === 'off' ? { options: '-c synchronous_commit=off' } : {};
    const pool = new pg.Pool({ connectionString: url, max: 34, ...opts });
    const piped = new pg.Pool({ connectionString: url, max: 34, pipeline: true, ...opts });
    pool.on('error', () => undefined);
    piped.on('error', () => undefined);
    const handWritten = async (tenant: string) => {
      await setup.query("INSERT INTO hand_counters VALUES ($1, 'invoice', 0)", [tenant]);
      return async () => {
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          const { rows } = await c.query<{ last_value: string }>({
            name: 'bench_hand_update',
            text: 'UPDATE hand_counters SET last_value = last_value + 1 WHERE tenant = $1 AND series = $2 RETURNING last_value',
            values: [tenant, 'invoice'],
          });
          await c.query({
            name: 'bench_insert',
            text: insertDoc,
            values: [tenant, 'invoice', '', rows[0]?.last_value],
          });
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw e;
        } finally {
          c.release();
        }
      };
    };
    const unit = 'allocations/s';
    const plural = (n: number) => `${n} client${n === 1 ? '' : 's'}`;
    const timed = (fn: () => Promise<unknown>, into: number[]) => async () => {
      const t0 = performance.now();
      await fn();
      into.push(performance.now() - t0);
    };
    const p99 = (xs: number[]): string => {
      const sorted = [...xs].sort((a, b) => a - b);
      return (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0).toFixed(1);
    };
    // The write hands back its INSERT unawaited, so COMMIT goes out right behind it.
    const write = (n: { tx: unknown; tenant: string; series: string; period: string; number: number }) =>
      (n.tx as pg.PoolClient).query({
        name: 'bench_insert',
        text: insertDoc,
        values: [n.tenant, n.series, n.period, n.number],
      });

    // Issue 20: one series per caller (no contention), the sequencer owning the transaction.
    const plain = createPostgresSequencer({ pool: piped });
    for (const clients of CLIENTS) {
      const perCaller = Array.from({ length: clients }, (_, i) => defineSeries({ key: `own-${mode}-${i}` }));
      let next = 0;
      const hands = await Promise.all(perCaller.map(() => handWritten(uniqueId('h'))));
      let h = 0;
      rows.push(
        await asTenant(uniqueId('p').replace(/_/g, '-'), () =>
          compare({
            workload: `postgres withNumber on a pipelined pool vs hand-written SQL awaited statement by statement, ${plural(clients)}${tag}`,
            unit,
            concurrency: clients,
            durationMs: DURATION,
            rounds: ROUNDS,
            ours: () =>
              plain.withNumber(perCaller[next++ % clients] as (typeof perCaller)[number], {}, write),
            baseline: () => (hands[h++ % clients] as () => Promise<void>)(),
          }),
        ),
      );
    }
    // The same with `namedStatements: true` (direct connections only; see the README): the hand-written
    // baseline names its statements too, so this is the like-for-like row on a direct connection.
    const named = createPostgresSequencer({ pool: piped, namedStatements: true });
    for (const clients of CLIENTS) {
      const perCaller = Array.from({ length: clients }, (_, i) =>
        defineSeries({ key: `named-${mode}-${i}` }),
      );
      let next = 0;
      const hands = await Promise.all(perCaller.map(() => handWritten(uniqueId('h'))));
      let h = 0;
      rows.push(
        await asTenant(uniqueId('n').replace(/_/g, '-'), () =>
          compare({
            workload: `postgres withNumber (namedStatements) on a pipelined pool vs hand-written SQL awaited statement by statement, ${plural(clients)}${tag}`,
            unit,
            concurrency: clients,
            durationMs: DURATION,
            rounds: ROUNDS,
            ours: () =>
              named.withNumber(perCaller[next++ % clients] as (typeof perCaller)[number], {}, write),
            baseline: () => (hands[h++ % clients] as () => Promise<void>)(),
          }),
        ),
      );
    }
    // Issue 20: the allocation and the document's INSERT as one statement (`insertWithNumber`: a
    // data-modifying CTE, one round trip, no BEGIN/COMMIT), against the same hand-written baseline.
    // Unnamed statement on an ordinary pool (works behind PgBouncer); the baseline names its statements.
    const oneStatement = createPostgresSequencer({ pool });
    const oneNamed = createPostgresSequencer({ pool, namedStatements: true });
    for (const [seqOne, label] of [
      [oneStatement, ''],
      [oneNamed, ' (namedStatements)'],
    ] as const)
      for (const clients of CLIENTS) {
        const perCaller = Array.from({ length: clients }, (_, i) =>
          defineSeries({ key: `ins${label.length}-${mode}-${i}` }),
        );
        let next = 0;
        const hands = await Promise.all(perCaller.map(() => handWritten(uniqueId('h'))));
        let h = 0;
        rows.push(
          await asTenant(uniqueId('i').replace(/_/g, '-'), () =>
            compare({
              workload: `postgres insertWithNumber${label} (allocation + INSERT in one statement) vs hand-written SQL awaited statement by statement, ${plural(clients)}${tag}`,
              unit,
              concurrency: clients,
              durationMs: DURATION,
              rounds: ROUNDS,
              ours: () =>
                seqOne.insertWithNumber(perCaller[next++ % clients] as (typeof perCaller)[number], {
                  table: 'docs',
                  tenantColumn: 'tenant',
                  numberColumn: 'number',
                  values: { series: 'invoice', period: '' },
                }),
              baseline: () => (hands[h++ % clients] as () => Promise<void>)(),
            }),
          ),
        );
      }
    // Issue 18: one hot series, combining mode on a pipelined pool (each savepoint with its write).
    const combining = createPostgresSequencer({ pool: piped, combine: { maxGroupSize: 64, maxWaitMs: 0 } });
    const hot = defineSeries({ key: `hot-piped-${mode}` });
    for (const clients of CLIENTS) {
      const hand = await handWritten(uniqueId('h'));
      const oursMs: number[] = [];
      const handMs: number[] = [];
      const row = await asTenant(uniqueId('c').replace(/_/g, '-'), () =>
        compare({
          workload: '',
          unit,
          concurrency: clients,
          durationMs: DURATION,
          rounds: ROUNDS,
          ours: timed(() => combining.withNumber(hot, {}, write), oursMs),
          baseline: timed(hand, handMs),
        }),
      );
      row.workload = `postgres one hot series, withNumber combining on a pipelined pool vs hand-written SQL, ${plural(clients)}${tag} (p99 ${p99(oursMs)} ms vs ${p99(handMs)} ms)`;
      rows.push(row);
    }
    await pool.end();
    await piped.end();
  }
  printBench('@tenantry/sequencer: PostgreSQL, pg pipeline mode (the sequencer owns the transaction)', rows);
} finally {
  await setup.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
