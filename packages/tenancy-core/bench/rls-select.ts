import { noopAuditPort, runAsSystem } from '@tenantry/core';
// A tenant-scoped SELECT through the unit-of-work runner (RLS policy from tenantTableSql, the tenant
// set with set_config(..., true) inside a transaction, as a non-owner application role) against the
// same SELECT with a plain `WHERE tenant_id = $1` run by a role that bypasses RLS, on 1,000,000 rows
// across 1,000 tenants. Two baselines: in a transaction per query (same round trips: fair), and as a
// bare autocommit query (one round trip: shows what the transaction itself costs). Then `uow.query` on a
// pipelined pool (one round trip) against the bare autocommit query at 1, 8 and 32 callers (issue 20).
import { randomBytes } from 'node:crypto';
import { compare, printBench, type BenchRow } from '@tenantry/testkit/bench';
import pg from 'pg';
import { corkWrites, createTenantUnitOfWork, tenantTableSql } from '@tenantry/core/postgres';

const base = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const dbName = `tenantry_bench_${suffix}`;
const appRole = `tenantry_bench_app_${suffix}`;
const urlFor = (database: string, user?: string) => {
  const u = new URL(base);
  u.pathname = `/${database}`;
  if (user) u.username = user;
  return u.toString();
};
const ROWS = 1_000_000;
const TENANTS = 1_000;
const POOL = 4;

const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
await admin.query(`CREATE ROLE ${appRole} LOGIN`);
const rows: BenchRow[] = [];
let owner: pg.Pool | undefined;
let app: pg.Pool | undefined;
try {
  // Back-office measurement across many tenants: the audited system scope (T1) lets it name each one.
  await runAsSystem(
    { actor: { id: 'bench', kind: 'service' }, reason: 'benchmark' },
    noopAuditPort,
    async () => {
      owner = new pg.Pool({ connectionString: urlFor(dbName), max: POOL });
      // DROP DATABASE … WITH (FORCE) at the end terminates connections pg may still be closing.
      owner.on('error', () => undefined);
      const t0 = performance.now();
      await owner.query(`
    CREATE TABLE invoices (tenant_id text NOT NULL, id bigint NOT NULL PRIMARY KEY, total numeric NOT NULL, issued_at timestamptz NOT NULL);
    INSERT INTO invoices SELECT 'tenant-' || (g % ${TENANTS}), g, (g % 997) * 1.25, now() - (g || ' seconds')::interval
      FROM generate_series(1, ${ROWS}) g;`);
      for (const sql of tenantTableSql({ table: 'invoices' })) await owner.query(sql);
      await owner.query(`VACUUM ANALYZE invoices`);
      await owner.query(
        `GRANT USAGE ON SCHEMA public TO ${appRole}; GRANT SELECT ON invoices TO ${appRole};`,
      );
      console.log(
        `loaded ${ROWS.toLocaleString('en-US')} rows for ${TENANTS} tenants in ${Math.round(performance.now() - t0)} ms`,
      );

      app = new pg.Pool({ connectionString: urlFor(dbName, appRole), max: POOL });
      app.on('error', () => undefined);
      const uow = createTenantUnitOfWork(app);
      const query = 'SELECT id, total FROM invoices ORDER BY id DESC LIMIT 20';
      const plain = 'SELECT id, total FROM invoices WHERE tenant_id = $1 ORDER BY id DESC LIMIT 20';
      let n = 0;
      const tenant = () => `tenant-${(n++ * 7919) % TENANTS}`;
      const check = (r: { rowCount: number | null }) => {
        if (r.rowCount !== 20) throw new Error(`expected 20 rows, got ${r.rowCount}`);
      };
      const ours = async () => check(await uow.run((c) => c.query(query), { tenantId: tenant() }));
      const inTransaction = async () => {
        const c = await owner!.connect();
        try {
          await c.query('BEGIN');
          check(await c.query(plain, [tenant()]));
          await c.query('COMMIT');
        } finally {
          c.release();
        }
      };
      rows.push(
        await compare({
          workload: `pg latest-20 SELECT: unit of work + RLS vs WHERE tenant_id=$1 in a transaction (1M rows, ${POOL} conns, ${POOL} in flight)`,
          unit: 'queries/s',
          concurrency: POOL,
          durationMs: 800,
          rounds: 9, // many short alternating rounds: the shared 2-core machine drifts a lot
          ours,
          baseline: inTransaction,
        }),
      );
      rows.push(
        await compare({
          workload: `pg latest-20 SELECT: unit of work + RLS vs bare autocommit WHERE tenant_id=$1 (1M rows, ${POOL} conns, ${POOL} in flight)`,
          unit: 'queries/s',
          concurrency: POOL,
          durationMs: 800,
          rounds: 9, // many short alternating rounds: the shared 2-core machine drifts a lot
          ours,
          baseline: async () => check(await owner!.query(plain, [tenant()])),
        }),
      );
      // Issue 20: the same read through `uow.query` on a pipelined pool (`pg` pipeline mode: BEGIN +
      // set_config, the SELECT and COMMIT written together, one round trip) against the bare autocommit
      // query, at 1, 8 and 32 concurrent callers, each side with a pool of as many connections.
      for (const clients of (process.env.BENCH_CLIENTS ?? '1,8,32').split(',').map(Number)) {
        const piped = new pg.Pool({
          connectionString: urlFor(dbName, appRole),
          max: clients,
          pipeline: true,
        });
        const bare = new pg.Pool({ connectionString: urlFor(dbName), max: clients });
        piped.on('error', () => undefined);
        bare.on('error', () => undefined);
        try {
          const pipedUow = createTenantUnitOfWork(piped);
          rows.push(
            await compare({
              workload: `pg latest-20 SELECT: uow.query on a pipelined pool + RLS vs bare autocommit WHERE tenant_id=$1 (1M rows, ${clients} conns, ${clients} in flight)`,
              unit: 'queries/s',
              concurrency: clients,
              durationMs: 800,
              rounds: 9,
              ours: async () => check(await pipedUow.query(query, [], { tenantId: tenant() })),
              baseline: async () => check(await bare.query(plain, [tenant()])),
            }),
          );
          // The ceiling of any RLS read on this machine: the same transaction written by hand on the
          // same pipelined pool, with nothing of ours (BEGIN + SET LOCAL, the SELECT and COMMIT corked into
          // one socket write, no role check and no session reset), against the same bare query. Where
          // client and server share the CPU, three statements cost more than one whatever the round trips.
          // The same by hand with the session reset the unit of work sends (T3: a session-level SET,
          // SET ROLE, a WITH HOLD cursor or a temporary table made inside the unit never reaches the
          // connection's next holder): what the reset costs, apart from the runner's own code.
          const byHand = (commitSql: string) => async () => {
            const c = await piped.connect();
            try {
              const flush = corkWrites(c);
              let begun: Promise<unknown>;
              let read: Promise<pg.QueryResult>;
              let committed: Promise<unknown>;
              try {
                begun = c.query(`BEGIN; SET LOCAL app.tenant_id TO '${tenant()}'`);
                read = c.query(query);
                committed = c.query(commitSql);
              } finally {
                flush();
              }
              await begun;
              check(await read);
              await committed;
            } finally {
              c.release();
            }
          };
          for (const [label, commitSql] of [
            ['COMMIT (no session reset)', 'COMMIT'],
            [
              'the same session reset and COMMIT',
              'CLOSE ALL; DISCARD TEMP; RESET app.tenant_id; RESET ROLE; COMMIT',
            ],
          ] as const) {
            rows.push(
              await compare({
                workload: `pg latest-20 SELECT: hand-written pipelined BEGIN + SET LOCAL, SELECT, ${label} + RLS vs bare autocommit WHERE tenant_id=$1 (${clients} conns, ${clients} in flight)`,
                unit: 'queries/s',
                concurrency: clients,
                durationMs: 800,
                rounds: 9,
                ours: byHand(commitSql),
                baseline: async () => check(await bare.query(plain, [tenant()])),
              }),
            );
          }
        } finally {
          await piped.end();
          await bare.end();
        }
      }
    },
  );
} finally {
  await app?.end();
  await owner?.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.query(`DROP ROLE IF EXISTS ${appRole}`);
  await admin.end();
}
printBench('@tenantry/core row-level security', rows);
