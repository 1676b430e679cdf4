// PostgreSQL: gapless allocations per second, each in its own transaction that also inserts the document.
// ours      = createPostgresSequencer({ namedStatements: true }).next() + INSERT, in BEGIN … COMMIT (direct)
// baselines = the same work written by hand (counter row UPDATE … RETURNING + INSERT), and the naive
//             MAX()+1 with retry on unique violation. All use named (prepared) statements.
// combining = createPostgresSequencer({ pool, combine }).withNumber() on one hot series (the sequencer
//             runs the transaction; concurrent callers share one, a savepoint each) vs the hand-written
//             counter-row SQL on one hot series, p99 latency of each side printed beside the rates.
import { type BenchRow, compare, printBench } from '@tenantry/testkit/bench';
import { runAsTenant } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import { resolveBackend, uniqueId, withDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { defineSeries, type Series } from '@tenantry/sequencer';
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
// `BENCH_SYNC=on|off|both` (default both): run with the server's durable commits, and with
// synchronous_commit=off for every side alike, which takes the disk's fsync (shared by every process on
// this machine) out of the measurement and shows the cost of the allocation itself.
const MODES =
  (process.env.BENCH_SYNC ?? 'both') === 'both' ? ['on', 'off'] : [process.env.BENCH_SYNC ?? 'on'];
// A request handler runs inside its tenant's context (entered once per request by the host's middleware);
// each comparison runs in one tenant's context, entered once, so its cost is not counted per allocation.
const asTenant = <R>(tenantId: string, fn: () => R): R =>
  runAsTenant({ tenantId, actor: { id: 'bench' } }, fn);
const invoices = defineSeries({ key: 'invoice' });
const setup = new pg.Pool({ connectionString: url, max: 2 });
setup.on('error', () => undefined);

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
    const pool = new pg.Pool({
      connectionString: url,
      max: 34,
      ...(mode === 'off' ? { options: '-c synchronous_commit=off' } : {}),
    });
    pool.on('error', () => undefined);
    // Named statements, like the baselines (a direct connection: see bench/pooler.ts for the default).
    const seq = createPostgresSequencer({ namedStatements: true });
    const insertDoc = 'INSERT INTO docs (tenant, series, period, number) VALUES ($1, $2, $3, $4)';
    const inTx = async (fn: (c: pg.PoolClient) => Promise<void>): Promise<void> => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await fn(c);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    };

    const ours = (series: () => Series) => () =>
      inTx(async (c) => {
        const n = await seq.next(series(), { tx: c });
        await c.query({
          name: 'bench_insert',
          text: insertDoc,
          values: [n.tenant, n.series, n.period, n.number],
        });
      });

    const handWritten = async (tenant: string) => {
      await setup.query("INSERT INTO hand_counters VALUES ($1, 'invoice', 0)", [tenant]);
      return () =>
        inTx(async (c) => {
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
        });
    };

    const naive = (tenant: string) => async () => {
      for (;;) {
        try {
          await inTx(async (c) => {
            const { rows } = await c.query<{ n: string }>({
              name: 'bench_naive_max',
              text: "SELECT COALESCE(max(number), 0) + 1 AS n FROM docs WHERE tenant = $1 AND series = 'invoice' AND period = ''",
              values: [tenant],
            });
            await c.query({
              name: 'bench_insert',
              text: insertDoc,
              values: [tenant, 'invoice', '', rows[0]?.n],
            });
          });
          return;
        } catch (e) {
          if ((e as { code?: string }).code !== '23505') throw e;
        }
      }
    };

    const unit = 'allocations/s';
    for (const clients of (process.env.BENCH_CLIENTS ?? '1,8,32').split(',').map(Number)) {
      const hand = await handWritten(uniqueId('h'));
      rows.push(
        await asTenant(uniqueId('o').replace(/_/g, '-'), () =>
          compare({
            workload: `postgres vs hand-written SQL, ${clients} client${clients === 1 ? '' : 's'}${tag}`,
            unit,
            concurrency: clients,
            durationMs: DURATION,
            rounds: ROUNDS,
            ours: ours(() => invoices),
            baseline: hand,
          }),
        ),
      );
      rows.push(
        await asTenant(uniqueId('o').replace(/_/g, '-'), () =>
          compare({
            workload: `postgres vs naive MAX()+1 with retry, ${clients} client${clients === 1 ? '' : 's'}${tag}`,
            unit,
            concurrency: clients,
            durationMs: DURATION,
            rounds: ROUNDS,
            ours: ours(() => invoices),
            baseline: naive(uniqueId('n')),
          }),
        ),
      );
    }
    const tenant = uniqueId('m').replace(/_/g, '-');
    const many = Array.from({ length: 32 }, (_, i) => defineSeries({ key: `pos-${i}` }));
    const hot = defineSeries({ key: 'hot' });
    let next = 0;
    rows.push(
      await asTenant(tenant, () =>
        compare({
          workload: `postgres, 32 series in parallel vs one hot series, 8 clients${tag}`,
          unit,
          concurrency: 8,
          durationMs: DURATION,
          rounds: ROUNDS,
          ours: ours(() => many[next++ % many.length] as Series),
          baseline: ours(() => hot),
        }),
      ),
    );
    // One hot series, combining mode vs the hand-written counter row, each call one document.
    const combining = createPostgresSequencer({ pool, combine: { maxGroupSize: 64, maxWaitMs: 0 } });
    const hotCombined = defineSeries({ key: 'hot-combined' });
    const timed = (fn: () => Promise<unknown>, into: number[]) => async () => {
      const t0 = performance.now();
      await fn();
      into.push(performance.now() - t0);
    };
    const p99 = (xs: number[]): string => {
      const sorted = [...xs].sort((a, b) => a - b);
      return (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0).toFixed(1);
    };
    for (const clients of (process.env.BENCH_CLIENTS ?? '1,8,32').split(',').map(Number)) {
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
          ours: timed(
            () =>
              combining.withNumber(hotCombined, {}, (n) =>
                // The transaction is the pool's own PoolClient: the same named insert as the baselines.
                (n.tx as unknown as pg.PoolClient).query({
                  name: 'bench_insert',
                  text: insertDoc,
                  values: [n.tenant, n.series, n.period, n.number],
                }),
              ),
            oursMs,
          ),
          baseline: timed(hand, handMs),
        }),
      );
      row.workload = `postgres one hot series, withNumber combining vs hand-written SQL, ${clients} client${
        clients === 1 ? '' : 's'
      }${tag} (p99 ${p99(oursMs)} ms vs ${p99(handMs)} ms)`;
      rows.push(row);
    }
    await pool.end();
  }
  printBench(
    '@tenantry/sequencer: PostgreSQL (each allocation in its own transaction with its document)',
    rows,
  );
} finally {
  await setup.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
