// PostgreSQL: one full four-eyes round per unit — request (soft lock) + 2 approvals, the second one
// executing the action in its transaction — per second.
// ours     = createApprovalEngine + PostgresApprovalStore (the tenant's versioned policy, eligibility by
//            role, a decision history, one conditional UPDATE per transition, audit port = noop)
// baseline = the same transitions written by hand, the best plain way: INSERT … ON CONFLICT on the pending
//            key, a votes table with a unique (request, approver) key, one conditional
//            UPDATE … SET approvals = approvals + 1, state = APPROVED and exec_state = EXECUTED once the
//            quorum is reached … WHERE state = 'PENDING' AND expires_at > now() AND maker_id <> $approver
//            RETURNING, then the handler's statement in the same transaction; the same lock statement on
//            the same assets table. Its rules (2 approvals, role MANAGER) are constants in the code, so
//            the row names say what ours does more: it applies the tenant's policy set (versioned) and keeps
//            a decision history with the approvers' roles.
// Both sides use unnamed statements only (what works behind PgBouncer in transaction mode).
// Before the timed rows it prints the statements each side sends per transition (counted by wrapping
// pg's Client#query; on the plain pool one statement is one round trip).
// After each pair of rows: CPU per round of each side (this process, and the PostgreSQL backends when
// the server is local), a figure that holds on a loaded machine where the rates move by ±30 %.
// BENCH_ONLY=ours|ours-piped|baseline runs that side alone (for `node --cpu-prof`), and prints its rate.
import { runAsTenant, noopAuditPort } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import { type BenchRow, compare, printBench, processCpuMs, throughput } from '@tenantry/testkit/bench';
import { resolveBackend, uniqueId, withDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { createApprovalEngine } from '@tenantry/approvals';
import { PostgresApprovalStore, approvalsMigrations } from '@tenantry/approvals/postgres';

const status = await resolveBackend('postgres');
if (!status.available) throw new Error(`postgres unavailable: ${status.reason}`);
const dbName = uniqueId('bench');
const admin = new pg.Client({ connectionString: status.url });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = withDatabase(status.url, dbName);
const DURATION = Number(process.env.BENCH_MS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,8').split(',').map(Number);
// BENCH_SYNC=off runs both sides with synchronous_commit=off (takes the shared disk's fsync out).
const SYNC = process.env.BENCH_SYNC ?? 'on';
const pool = new pg.Pool({
  connectionString: url,
  max: 20,
  ...(SYNC === 'off' ? { options: '-c synchronous_commit=off' } : {}),
});
pool.on('error', () => undefined);
// The same engine on a pool in `pg`'s pipeline mode: BEGIN and the handler's savepoint go out with the
// statements behind them (fewer round trips per transition; issue 14's gap).
const piped = new pg.Pool({
  connectionString: url,
  max: 20,
  pipeline: true,
  ...(SYNC === 'off' ? { options: '-c synchronous_commit=off' } : {}),
});
piped.on('error', () => undefined);

try {
  await runMigrations(pool, approvalsMigrations);
  await pool.query(`
    CREATE TABLE assets (tenant_id text NOT NULL, id text NOT NULL, status text NOT NULL DEFAULT 'ACTIVE', PRIMARY KEY (tenant_id, id));
    CREATE TABLE hand_requests (tenant_id text NOT NULL, id uuid NOT NULL, action text NOT NULL, resource_type text NOT NULL,
      resource_id text NOT NULL, maker_id text NOT NULL, state text NOT NULL, exec_state text NOT NULL DEFAULT 'NONE',
      approvals int NOT NULL DEFAULT 0, required int NOT NULL, expires_at timestamptz NOT NULL, payload jsonb NOT NULL,
      PRIMARY KEY (tenant_id, id));
    CREATE UNIQUE INDEX hand_one_pending ON hand_requests (tenant_id, action, resource_type, resource_id) WHERE state = 'PENDING';
    CREATE TABLE hand_votes (tenant_id text NOT NULL, request_id uuid NOT NULL, approver_id text NOT NULL, roles text[] NOT NULL,
      decided_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, request_id, approver_id));`);

  const lockSql = `UPDATE assets SET status = 'PENDING_DELETION' WHERE tenant_id = $1 AND id = $2`;
  const executeSql = `UPDATE assets SET status = 'DELETED' WHERE tenant_id = $1 AND id = $2`;
  const q = (tx: unknown) => tx as pg.PoolClient;
  const engines = [pool, piped].map((p) => {
    const engine = createApprovalEngine({
      store: new PostgresApprovalStore({ pool: p }),
      audit: noopAuditPort,
    });
    engine.registerResource('asset', {
      lock: ({ transaction, tenantId, resource }) =>
        q(transaction)
          .query(lockSql, [tenantId, resource.id])
          .then(() => undefined),
      unlock: () => undefined,
    });
    engine.registerAction('asset.delete', {
      execute: ({ transaction, tenantId, request }) =>
        q(transaction)
          .query(executeSql, [tenantId, request.resource.id])
          .then(() => undefined),
    });
    return engine;
  });
  const engine = engines[0] as (typeof engines)[number];
  const tenant = 'bench-ours';
  const handTenant = 'bench-hand';
  const as = <R>(id: string, roles: string[], fn: () => Promise<R>) =>
    runAsTenant({ tenantId: tenant, actor: { id, roles } }, fn);
  await as('admin', ['TENANT_ADMIN'], () =>
    engine.setPolicies({
      policies: [{ action: 'asset.delete', approvalsRequired: 2, approverRoles: ['MANAGER'] }],
    }),
  );
  await pool.query(
    `INSERT INTO assets (tenant_id, id) SELECT t, 'a' || g FROM generate_series(1, 200000) g, unnest(ARRAY[$1, $2]) t`,
    [tenant, handTenant],
  );

  // Counts statements per transition: pg's pool and checked-out clients all send through Client#query.
  const sent: string[] = [];
  let counting = false;
  const clientQuery = pg.Client.prototype.query;
  const counted = function (this: pg.Client, ...args: unknown[]): unknown {
    if (counting) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
      sent.push((text ?? '?').trim().split(/\s+/).slice(0, 3).join(' '));
    }
    return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
  };
  pg.Client.prototype.query = counted as typeof clientQuery;
  type Tap = (label: string) => void;
  const none: Tap = () => undefined;

  let oursNext = 0;
  const round =
    (engine: (typeof engines)[number]) =>
    async (tap: Tap = none): Promise<void> => {
      const id = `a${++oursNext}`;
      tap('request');
      const r = await as('maker', ['OPERATOR'], () =>
        engine.request({
          action: 'asset.delete',
          resource: { type: 'asset', id },
          justification: 'bench',
          payload: {},
        }),
      );
      tap('approve');
      await as('alice', ['MANAGER'], () => engine.approve({ requestId: r.id }));
      tap('approve + execute');
      const done = await as('carol', ['MANAGER'], () => engine.approve({ requestId: r.id }));
      if (done.status !== 'EXECUTED') throw new Error(`ours: ${done.status}`);
    };
  const ours = round(engine);
  const oursPiped = round(engines[1] as (typeof engines)[number]);

  const inTx = async <R>(fn: (c: pg.PoolClient) => Promise<R>): Promise<R> => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  };
  const REQUIRED = 2;
  const APPROVER_ROLE = 'MANAGER';
  let handNext = 0;
  const handApprove = (requestId: string, approver: string, roles: string[]) =>
    inTx(async (c) => {
      if (!roles.includes(APPROVER_ROLE)) throw new Error('not eligible');
      const vote = await c.query(
        'INSERT INTO hand_votes (tenant_id, request_id, approver_id, roles) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [handTenant, requestId, approver, roles],
      );
      if (vote.rowCount !== 1) throw new Error('duplicate vote');
      // The quorum vote also marks the execution: the row is ours until COMMIT, and the handler's
      // statement below commits with it (a separate mark UPDATE would only add a round trip).
      const { rows } = await c.query<{ state: string; resource_id: string }>(
        `UPDATE hand_requests SET approvals = approvals + 1,
           state = CASE WHEN approvals + 1 >= required THEN 'APPROVED' ELSE state END,
           exec_state = CASE WHEN approvals + 1 >= required THEN 'EXECUTED' ELSE exec_state END
         WHERE tenant_id = $1 AND id = $2 AND state = 'PENDING' AND expires_at > now() AND maker_id <> $3
         RETURNING state, resource_id`,
        [handTenant, requestId, approver],
      );
      if (!rows[0]) throw new Error('not pending');
      if (rows[0].state === 'APPROVED') await c.query(executeSql, [handTenant, rows[0].resource_id]);
      return rows[0].state;
    });
  const baseline = async (tap: Tap = none): Promise<void> => {
    const resource = `a${++handNext}`;
    const id = crypto.randomUUID();
    tap('request');
    await inTx(async (c) => {
      const ins = await c.query(
        `INSERT INTO hand_requests (tenant_id, id, action, resource_type, resource_id, maker_id, state, required, expires_at, payload)
         VALUES ($1, $2, 'asset.delete', 'asset', $3, 'maker', 'PENDING', $4, now() + interval '7 days', '{}')
         ON CONFLICT (tenant_id, action, resource_type, resource_id) WHERE state = 'PENDING' DO NOTHING`,
        [handTenant, id, resource, REQUIRED],
      );
      if (ins.rowCount !== 1) throw new Error('duplicate');
      await c.query(lockSql, [handTenant, resource]);
    });
    tap('approve');
    await handApprove(id, 'alice', [APPROVER_ROLE]);
    tap('approve + execute');
    if ((await handApprove(id, 'carol', [APPROVER_ROLE])) !== 'APPROVED')
      throw new Error('hand: not approved');
  };

  // One counted round per side, after a warm-up round (so caches are in the state the timed rows see).
  const count = async (name: string, fn: (tap: Tap) => Promise<void>) => {
    await fn(none);
    const marks: Array<[string, number]> = [];
    sent.length = 0;
    counting = true;
    try {
      await fn((label) => marks.push([label, sent.length]));
    } finally {
      counting = false;
    }
    const parts = marks.map(([label, from], i) => {
      const to = marks[i + 1]?.[1] ?? sent.length;
      return `${label}: ${to - from} (${sent.slice(from, to).join('; ')})`;
    });
    console.log(`statements per round, ${name}: ${sent.length}\n  ${parts.join('\n  ')}`);
  };

  // CPU per round of each side, robust where wall-clock rates are not (a loaded machine): this process,
  // and the PostgreSQL backends serving the bench's database when /proc shows them (a local server).
  // compare() runs one side at a time, so the CPU used between two switches belongs to the side running.
  // Per backend pid, its CPU so far (ms); undefined when /proc does not show them (a remote server).
  const backendCpu = async (): Promise<Map<number, number> | undefined> => {
    const { rows } = await admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [dbName],
    );
    const out = new Map<number, number>();
    for (const { pid } of rows) {
      const ms = processCpuMs(pid);
      if (ms !== undefined) out.set(pid, ms);
      else if (rows.length > 0 && out.size === 0) return undefined;
    }
    return out;
  };
  type Side = { nodeUs: number; pgMs: number | undefined; rounds: number };
  const cpuOf = (): Record<'ours' | 'baseline', Side> => ({
    ours: { nodeUs: 0, pgMs: 0, rounds: 0 },
    baseline: { nodeUs: 0, pgMs: 0, rounds: 0 },
  });
  let cpu = cpuOf();
  let running: 'ours' | 'baseline' | undefined;
  let nodeMark = process.cpuUsage();
  let pgMark = await backendCpu();
  let switching: Promise<void> = Promise.resolve();
  // Charge the CPU used since the last switch to `side` (the node figure is read at once, the backends'
  // before the next side starts: its calls wait for `switching`).
  const charge = async (side: 'ours' | 'baseline' | undefined): Promise<void> => {
    const used = process.cpuUsage(nodeMark);
    nodeMark = process.cpuUsage();
    const now = await backendCpu();
    if (side) {
      const s = cpu[side];
      s.nodeUs += used.user + used.system;
      if (s.pgMs === undefined || now === undefined || pgMark === undefined) s.pgMs = undefined;
      else {
        // Backends that appeared since the last mark count in full; one that exited is lost (undercount).
        for (const [pid, ms] of now) s.pgMs += ms - (pgMark.get(pid) ?? 0);
      }
    }
    pgMark = now;
  };
  const switchTo = (side: 'ours' | 'baseline' | undefined): Promise<void> => {
    if (running !== side) {
      const previous = running;
      running = side;
      switching = switching.then(() => charge(previous));
    }
    return switching;
  };
  const tracked = (side: 'ours' | 'baseline', fn: () => Promise<void>) => async () => {
    await switchTo(side);
    cpu[side].rounds++;
    await fn();
  };
  const perRound = (s: Side) =>
    `node ${(s.nodeUs / 1000 / s.rounds).toFixed(2)} ms${s.pgMs === undefined ? '' : ` + postgres ${(s.pgMs / s.rounds).toFixed(2)} ms`}`;

  const only = process.env.BENCH_ONLY;
  if (only !== undefined) {
    const fn =
      only === 'ours' ? ours : only === 'ours-piped' ? oursPiped : only === 'baseline' ? baseline : undefined;
    if (!fn) throw new Error(`BENCH_ONLY must be ours, ours-piped or baseline, not ${only}`);
    const clients = CLIENTS[0] ?? 1;
    const rate = await throughput(() => fn(), { durationMs: DURATION * ROUNDS, concurrency: clients });
    console.log(`${only}, ${clients} client(s): ${rate.toFixed(1)} rounds/s`);
  } else {
    await count('ours (plain pool)', ours);
    await count('ours (pipelined pool; BEGIN and SAVEPOINT not awaited)', oursPiped);
    await count('hand-written SQL', baseline);
    const more = "ours also applies the tenant's versioned policy set and keeps a decision history";
    const rows: BenchRow[] = [];
    const cpuLines: string[] = [];
    for (const [label, fn] of [
      ['postgres', ours],
      ['postgres on a pipelined pg pool', oursPiped],
    ] as const) {
      for (const clients of CLIENTS) {
        rows.push(
          await compare({
            workload: `request + 2 approvals + execution, ${label} vs hand-written SQL (${more}), ${clients} client${clients === 1 ? '' : 's'}${SYNC === 'off' ? ', synchronous_commit=off' : ''}`,
            unit: 'rounds/s',
            concurrency: clients,
            durationMs: DURATION,
            rounds: ROUNDS,
            ours: tracked('ours', () => fn()),
            baseline: tracked('baseline', () => baseline()),
          }),
        );
        await switchTo(undefined);
        cpuLines.push(
          `cpu per round, ${label}, ${clients} client${clients === 1 ? '' : 's'}: ours ${perRound(cpu.ours)}; hand-written ${perRound(cpu.baseline)}`,
        );
        cpu = cpuOf();
      }
    }
    console.log(cpuLines.join('\n'));
    printBench('@tenantry/approvals (PostgreSQL)', rows);
  }
} finally {
  await piped.end();
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
