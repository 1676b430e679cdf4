// A torture-test worker. Modes (TORTURE_MODE): `pg` (in-transaction allocation; through the client
// kind TORTURE_CLIENT names, node-postgres by default), `combine` (PostgreSQL
// `withNumber` in combining mode, 8 concurrent callers per process, failing writes mixed in), `redis`
// (callback form, Redis lock + mark, documents in PostgreSQL), `stall` (takes a Redis lock and freezes
// past its TTL). TORTURE_PIPELINE (`off`, `on`, `mixed`) sets `pg`'s pipeline mode of `combine`.
import { randomUUID } from 'node:crypto';
import { runAsTenant } from '@tenantry/core';
import { reportToParent, workerIdentity } from '@tenantry/testkit/child';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type CounterKey, createLockedSequencer, defineSeries, type Series } from '../../src/index.js';
import { createPostgresSequencer } from '../../src/postgres.js';
import { RedisSequencerBackend } from '../../src/redis.js';

const e = (name: string): string => process.env[name] ?? '';
const mode = e('TORTURE_MODE');
const deadline = Number(e('TORTURE_DEADLINE'));
const table = e('TORTURE_TABLE') || 'tdocs';
const tenant = e('TORTURE_TENANT') || 'acme';
const appName = `seqtorture-${workerIdentity().index}`;
const hr = () => process.hrtime.bigint().toString();

// Series are defined once, with no tenant; each allocation runs in its tenant's context (T1).
const hot = defineSeries({ key: 'hot' });
const inTenant = <R>(tenantId: string, fn: () => Promise<R>): Promise<R> =>
  runAsTenant({ tenantId, actor: { id: appName } }, fn);
const seriesList: Array<{ s: Series; tenant: string; weight: number; dates: string[] }> = [
  { s: hot, tenant, weight: 5, dates: [] },
  { s: defineSeries({ key: 'cold', start: 100 }), tenant, weight: 1, dates: [] },
  { s: hot, tenant: `${tenant}-2`, weight: 1, dates: [] },
  {
    s: defineSeries({ key: 'fiscal', period: 'yearly', format: 'F{yyyy}-{n:06}' }),
    tenant,
    weight: 2,
    dates: ['2025-11-30', '2026-01-15'],
  },
];
const totalWeight = seriesList.reduce((a, b) => a + b.weight, 0);
const pick = () => {
  let r = Math.random() * totalWeight;
  for (const x of seriesList) {
    r -= x.weight;
    if (r < 0) return x;
  }
  return seriesList[0]!;
};
const insertSql = `INSERT INTO ${table} (tenant, series, period, number) VALUES ($1, $2, $3, $4)`;

/**
 * `pg` mode through another client kind (TORTURE_CLIENT: `kysely`, `drizzle (node-postgres)`, …): each
 * allocation and its documents in one transaction opened by that library, through its adapter.
 */
async function pgModeThrough(kindName: string): Promise<void> {
  const seq = createPostgresSequencer({ lockTimeoutMs: 5_000 });
  // Imported here, so the node-postgres mode starts as fast as before (startup counts against the deadline).
  const { PG_CLIENT_KINDS } = await import('@tenantry/testkit/pg-clients');
  const kind = PG_CLIENT_KINDS.find((k) => k.name === kindName);
  if (!kind) throw new Error(`unknown TORTURE_CLIENT ${kindName}`);
  const url = new URL(e('TORTURE_PG'));
  url.searchParams.set('application_name', appName);
  const client = kind.open(url.toString(), { max: 1 });
  class Abort extends Error {}
  // Loading these libraries takes seconds on a loaded machine: each worker works at least
  // TORTURE_MIN_MS once it is ready, even past the shared deadline.
  const until = Math.max(deadline, Date.now() + Number(e('TORTURE_MIN_MS') || 0));
  while (Date.now() < until) {
    const { s, dates, tenant: t } = pick();
    const issueDate = dates.length ? dates[Math.floor(Math.random() * dates.length)] : undefined;
    const count = Math.random() < 0.1 ? 3 : 1;
    const r = Math.random();
    const abort = r < 0.08 ? 'before-insert' : r < 0.16 ? 'after-insert' : null;
    const t0 = hr();
    try {
      const ns = await client.transaction(async (tx) => {
        const got = await inTenant(t, () => seq.nextBatch(s, count, { tx, issueDate }));
        if (abort === 'before-insert') throw new Abort();
        for (const n of got) await tx.query(insertSql, [n.tenant, n.series, n.period, n.number]);
        if (abort === 'after-insert') throw new Abort();
        return got;
      });
      const first = ns[0]!;
      reportToParent({
        k: `${first.tenant}|${first.series}|${first.period}`,
        n: ns.map((x) => x.number),
        t0,
        t1: hr(),
      });
    } catch (err) {
      if (err instanceof Abort) reportToParent({ abort: 1 });
      else reportToParent({ dropped: 1, code: (err as { code?: string }).code });
    }
  }
  await client.close();
}

async function pgMode(): Promise<void> {
  const seq = createPostgresSequencer({ lockTimeoutMs: 5_000 });
  const connect = async (): Promise<pg.Client> => {
    for (;;) {
      const c = new pg.Client({ connectionString: e('TORTURE_PG'), application_name: appName });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return c;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  let client = await connect();
  while (Date.now() < deadline) {
    const { s, dates, tenant: t } = pick();
    const issueDate = dates.length ? dates[Math.floor(Math.random() * dates.length)] : undefined;
    const count = Math.random() < 0.1 ? 3 : 1;
    const r = Math.random();
    const abort = r < 0.08 ? 'before-insert' : r < 0.16 ? 'after-insert' : null;
    const t0 = hr();
    try {
      await client.query('BEGIN');
      const ns = await inTenant(t, () => seq.nextBatch(s, count, { tx: client, issueDate }));
      if (abort === 'before-insert') {
        await client.query('ROLLBACK');
        reportToParent({ abort: 1 });
        continue;
      }
      for (const n of ns) await client.query(insertSql, [n.tenant, n.series, n.period, n.number]);
      if (abort === 'after-insert') {
        await client.query('ROLLBACK');
        reportToParent({ abort: 1 });
        continue;
      }
      await client.query('COMMIT');
      const first = ns[0]!;
      reportToParent({
        k: `${first.tenant}|${first.series}|${first.period}`,
        n: ns.map((x) => x.number),
        t0,
        t1: hr(),
      });
    } catch (e) {
      reportToParent({ dropped: 1, code: (e as { code?: string }).code });
      await client.end().catch(() => undefined);
      client = await connect();
    }
  }
  await client.end();
}

async function combineMode(): Promise<void> {
  // TORTURE_PIPELINE=mixed: about half of the processes run `pg` in pipeline mode.
  const pipeline = e('TORTURE_PIPELINE') === 'mixed' ? Math.random() < 0.5 : e('TORTURE_PIPELINE') === 'on';
  const pool = new pg.Pool({
    connectionString: e('TORTURE_PG'),
    max: 4,
    application_name: appName,
    pipeline,
  });
  pool.on('error', () => undefined);
  pool.on('connect', (c) => c.on('error', () => undefined));
  // Each process picks its own bounds, so groups of every size (1 = no combining) meet on one series.
  const maxGroupSize = [1, 4, 16, 64][Math.floor(Math.random() * 4)] as number;
  const seq = createPostgresSequencer({
    pool,
    lockTimeoutMs: 5_000,
    combine: { maxGroupSize, maxWaitMs: Math.random() < 0.5 ? 0 : 2 },
  });
  const insert = `INSERT INTO ${table} (tenant, series, period, number, token) VALUES ($1, $2, $3, $4, $5)`;
  const caller = async () => {
    while (Date.now() < deadline) {
      const { s, dates, tenant: t } = pick();
      const issueDate = dates.length ? dates[Math.floor(Math.random() * dates.length)] : undefined;
      const r = Math.random();
      const fail = r < 0.06 ? 'before' : r < 0.12 ? 'after' : r < 0.18 ? 'sql' : null;
      const token = randomUUID();
      const t0 = hr();
      try {
        const n = await inTenant(t, () =>
          seq.withNumber(s, { issueDate }, async (a) => {
            if (fail === 'before') throw new Error('aborted on purpose');
            await a.tx.query(insert, [a.tenant, a.series, a.period, a.number, token]);
            if (fail === 'after') throw new Error('aborted on purpose');
            if (fail === 'sql') await a.tx.query('SELECT 1 / 0');
            return a;
          }),
        );
        reportToParent({ k: `${n.tenant}|${n.series}|${n.period}`, n: [n.number], t0, t1: hr(), tok: token });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'SEQUENCER_COMMIT_UNKNOWN') reportToParent({ unknown: token });
        else
          reportToParent({
            failed: token,
            ...(fail !== null && (code === '22012' || (err as Error).message === 'aborted on purpose')
              ? { abort: 1 }
              : { dropped: 1, code: code ?? String(err) }),
          });
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, caller));
  await pool.end();
}

async function redisMode(): Promise<void> {
  const redis = new Redis(e('TORTURE_REDIS'), { maxRetriesPerRequest: 3 });
  const pool = new pg.Pool({ connectionString: e('TORTURE_PG'), max: 2, application_name: appName });
  pool.on('error', () => undefined);
  // A checked-out client whose backend is terminated between queries emits 'error': swallow it here;
  // the next query on it fails and the write is reported as lost.
  pool.on('connect', (c) => c.on('error', () => undefined));
  const backend = new RedisSequencerBackend({ redis, prefix: e('TORTURE_PREFIX') });
  const highest = async (k: CounterKey) => {
    const { rows } = await pool.query<{ m: string | null }>(
      `SELECT max(number) AS m FROM ${table} WHERE tenant = $1 AND series = $2 AND period = $3`,
      [k.tenant, k.series, k.period],
    );
    return rows[0]?.m == null ? null : Number(rows[0].m);
  };
  const seq = createLockedSequencer({
    lock: backend,
    store: backend,
    highestCommitted: highest,
    // Half the workers keep their lease between back-to-back allocations (one round trip each).
    options: { lockTtlMs: 1_500, lockWaitMs: 15_000, keepLeaseMs: Math.random() < 0.5 ? 5 : 0 },
  });
  while (Date.now() < deadline) {
    const { s, dates, tenant: t } = pick();
    const issueDate = dates.length ? dates[Math.floor(Math.random() * dates.length)] : undefined;
    const abort = Math.random() < 0.15;
    const t0 = hr();
    try {
      const n = await inTenant(t, () =>
        seq.withNumber(s, { issueDate }, async (a) => {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query(insertSql, [a.tenant, a.series, a.period, a.number]);
            if (abort) throw new Error('aborted on purpose');
            await c.query('COMMIT');
          } catch (e) {
            await c.query('ROLLBACK').catch(() => undefined);
            throw e;
          } finally {
            c.release(true);
          }
          return a;
        }),
      );
      reportToParent({ k: `${n.tenant}|${n.series}|${n.period}`, n: [n.number], t0, t1: hr() });
    } catch (e) {
      if ((e as Error).message === 'aborted on purpose') reportToParent({ abort: 1 });
      else reportToParent({ dropped: 1, code: (e as { code?: string }).code ?? String(e) });
    }
  }
  await seq.close();
  redis.disconnect();
  await pool.end();
}

async function stallMode(): Promise<void> {
  const redis = new Redis(e('TORTURE_REDIS'));
  const pool = new pg.Pool({ connectionString: e('TORTURE_PG'), max: 1 });
  const backend = new RedisSequencerBackend({ redis, prefix: e('TORTURE_PREFIX') });
  const seq = createLockedSequencer({
    lock: backend,
    store: backend,
    highestCommitted: async () => null,
    options: { lockTtlMs: 300, lockWaitMs: 5_000 },
  });
  const s = defineSeries({ key: 'stall' });
  let outcome = 'ok';
  try {
    await inTenant(tenant, () =>
      seq.withNumber(s, {}, async (a) => {
        await redis.set(`${e('TORTURE_PREFIX')}:stall-holding`, String(a.number));
        // A real stall: the event loop is frozen (no renewal can run) for 4x the TTL.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_200);
        await pool.query(insertSql, [a.tenant, a.series, a.period, a.number]);
      }),
    );
  } catch (e) {
    outcome = (e as { code?: string }).code ?? String(e);
  }
  reportToParent({ stall: outcome });
  redis.disconnect();
  await pool.end();
}

await (mode === 'pg'
  ? e('TORTURE_CLIENT') && e('TORTURE_CLIENT') !== 'node-postgres'
    ? pgModeThrough(e('TORTURE_CLIENT'))
    : pgMode()
  : mode === 'combine'
    ? combineMode()
    : mode === 'redis'
      ? redisMode()
      : stallMode());
