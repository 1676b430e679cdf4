import { runMigrations } from '@tenantry/core/postgres';
import { fileURLToPath } from 'node:url';
import { hasBackend, runWorkers, skipLabel } from '@tenantry/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { createLockedSequencer, defineSeries } from '../src/index.js';
import { scanPostgresDocuments, sequencerMigrations } from '../src/postgres.js';
import { RedisSequencerBackend } from '../src/redis.js';
import { asSystem, currentTenant, tenantIt as it, useBackends } from './helpers.js';

const env = useBackends();
const WORKER = fileURLToPath(new URL('./workers/torture-worker.ts', import.meta.url));
const RUN_MS = Number(process.env.TORTURE_RUN_MS ?? 9_000);

interface Report {
  k?: string;
  n?: number[];
  t0?: string;
  t1?: string;
  abort?: number;
  dropped?: number;
  stall?: string;
  tok?: string;
  failed?: string;
  unknown?: string;
}

const ready = hasBackend('postgres') && hasBackend('redis');

describe.skipIf(!ready)(
  `sequencer torture (processes, SIGKILL, pg_terminate_backend)${skipLabel('postgres')}${skipLabel('redis')}`,
  () => {
    let pool: pg.Pool;
    const poolErrors: unknown[] = [];
    beforeAll(async () => {
      // Named, so that the terminator never picks this process's own sessions: behind PgBouncer a
      // server connection keeps the application_name of its last client unless the next one sets its own.
      pool = new pg.Pool({ connectionString: env.pgUrl(), max: 4, application_name: 'torture-parent' });
      // An idle client of ours whose connection breaks must not crash the run unnoticed: recorded, and
      // each test checks there was none.
      pool.on('error', (e) => poolErrors.push(e));
      await runMigrations(pool, sequencerMigrations);
      await pool.query(`
      CREATE SEQUENCE commit_seq;
      CREATE FUNCTION stamp_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN EXECUTE format('UPDATE %I SET commit_seq = nextval(''commit_seq'') WHERE id = $1', TG_TABLE_NAME) USING NEW.id; RETURN NULL; END $$;`);
      for (const t of [
        'tdocs',
        'rdocs',
        'sdocs',
        'cdocs',
        ...PG_CLIENT_KINDS.slice(1).map((_, i) => `tdocs_${i + 1}`),
      ]) {
        await pool.query(`
        CREATE TABLE ${t} (id bigserial PRIMARY KEY, tenant text NOT NULL, series text NOT NULL, period text NOT NULL,
          number bigint NOT NULL, commit_seq bigint, token text UNIQUE, xid bigint DEFAULT txid_current(),
          UNIQUE (tenant, series, period, number));
        -- Runs at COMMIT: while the counter row (or series lock) is still held, so its order is commit order.
        CREATE CONSTRAINT TRIGGER stamp_${t} AFTER INSERT ON ${t} DEFERRABLE INITIALLY DEFERRED
          FOR EACH ROW EXECUTE FUNCTION stamp_commit();`);
      }
    });
    afterAll(() => pool.end());
    afterEach(() => {
      expect(poolErrors.map(String)).toEqual([]);
    });

    /** Kill random worker backends with pg_terminate_backend until `stop` is set. */
    const terminator = (stop: { done: boolean }) =>
      (async () => {
        let killed = 0;
        while (!stop.done) {
          await new Promise((r) => setTimeout(r, 300 + Math.random() * 500));
          const { rows } = await pool.query<{ ok: boolean }>(
            `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
            WHERE datname = current_database() AND application_name LIKE 'seqtorture-%' AND pid <> pg_backend_pid()
            ORDER BY random() LIMIT 1`,
          );
          if (rows[0]?.ok) killed++;
        }
        return killed;
      })();

    /** Every key's documents are exactly start…N (S1, S2), commit order follows number order (S3), and
     * a document committed before another allocation started has the smaller number (S3, from reports). */
    const verify = async (table: string, reports: Report[], counterTable: 'pg' | 'redis') => {
      const { rows: keys } = await pool.query<{ tenant: string; series: string; period: string; n: string }>(
        `SELECT tenant, series, period, count(*) AS n FROM ${table} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      );
      expect(keys.length).toBeGreaterThanOrEqual(4);
      let docs = 0;
      for (const k of keys) {
        const start = k.series === 'cold' ? 100 : 1;
        // The auditor's view across tenants: inside the audited system scope, naming each tenant.
        const r = await asSystem(() =>
          scanPostgresDocuments(pool, {
            table,
            tenantId: k.tenant,
            series: k.series,
            period: k.period,
            start,
          }),
        );
        expect({ key: k, gaps: r.gaps, dups: r.duplicates, first: r.first, below: r.belowStart }).toEqual({
          key: k,
          gaps: [],
          dups: [],
          first: start,
          below: false,
        });
        expect(r.last).toBe(start + r.count - 1);
        docs += r.count;
        const { rows } = await pool.query<{ bad: string }>(
          `SELECT count(*) AS bad FROM (SELECT commit_seq, lag(commit_seq) OVER (ORDER BY number) AS prev
           FROM ${table} WHERE tenant = $1 AND series = $2 AND period = $3) s WHERE commit_seq <= prev`,
          [k.tenant, k.series, k.period],
        );
        expect(Number(rows[0]?.bad), `commit order of ${k.tenant}/${k.series}/${k.period}`).toBe(0);
        if (counterTable === 'pg') {
          // Aborted allocations consumed nothing: the counter equals the last committed document (S4).
          const { rows: c } = await pool.query<{ last_value: string }>(
            'SELECT last_value FROM tenantry_sequencer_counters WHERE tenant = $1 AND series = $2 AND period = $3',
            [k.tenant, k.series, k.period],
          );
          expect(Number(c[0]?.last_value)).toBe(r.last);
        }
      }
      // Cross-process S3 on reported commits: if a committed (t1) before b began (t0), then a.n < b.n.
      const byKey = new Map<string, Array<{ n: number; t0: bigint; t1: bigint }>>();
      for (const m of reports) {
        if (!m.k || !m.n) continue;
        const list = byKey.get(m.k) ?? [];
        for (const n of m.n) list.push({ n, t0: BigInt(m.t0 as string), t1: BigInt(m.t1 as string) });
        byKey.set(m.k, list);
      }
      let checked = 0;
      for (const list of byKey.values()) {
        list.sort((a, b) => b.n - a.n);
        let minT1Above: bigint | undefined;
        for (const d of list) {
          if (minT1Above !== undefined) expect(minT1Above < d.t0, `S3 violated at number ${d.n}`).toBe(false);
          minT1Above = minT1Above === undefined || d.t1 < minT1Above ? d.t1 : minT1Above;
          checked++;
        }
      }
      return { docs, checked };
    };

    // Once per PostgreSQL client kind: each allocation in a transaction of that library, through its adapter.
    for (const [i, kind] of PG_CLIENT_KINDS.entries()) {
      const table = i === 0 ? 'tdocs' : `tdocs_${i}`;
      // Terminating backends is left out where the library itself cannot survive it (both unfixed
      // upstream; Tenantry's code is not on those paths): postgres.js 3.4.9 crashes the whole process (an
      // uncatchable TypeError in nextWrite, porsager/postgres#1208); drizzle-orm 0.45's node-postgres
      // transaction() runs BEGIN outside its try/finally, so a BEGIN on a terminated connection leaks
      // the pool client and the next transaction waits forever (drizzle-orm#6023). There the chaos is SIGKILL only.
      const upstream = kind.name.includes('postgres.js')
        ? 'postgres.js 3.4.9 crashes on it, porsager/postgres#1208'
        : kind.name.startsWith('drizzle')
          ? 'drizzle-orm 0.45 leaks the pool client when BEGIN fails, drizzle-orm#6023'
          : undefined;
      const terminates = upstream === undefined;
      const chaos = terminates
        ? 'SIGKILL, pg_terminate_backend'
        : `SIGKILL (no pg_terminate_backend: ${upstream})`;
      it(`PostgreSQL in-transaction through ${kind.name}: 5 processes, 4 series, aborts, ${chaos}`, async () => {
        const stop = { done: !terminates };
        const terminations = terminator(stop);
        const result = await runWorkers({
          script: WORKER,
          workers: 5,
          env: {
            TORTURE_MODE: 'pg',
            TORTURE_PG: env.pgUrl(),
            TORTURE_TABLE: table,
            TORTURE_CLIENT: kind.name,
            TORTURE_MIN_MS: i === 0 ? '0' : '4000',
            TORTURE_TENANT: `acme${i}`,
            TORTURE_DEADLINE: String(Date.now() + RUN_MS),
          },
          chaos: { intervalMs: [700, 1_500], maxKills: 6 },
          timeoutMs: RUN_MS + 40_000,
        }).finally(() => {
          stop.done = true;
        });
        const terminated = await terminations;
        const reports = result.messages as Report[];
        const { docs, checked } = await verify(table, reports, 'pg');
        const aborts = reports.filter((m) => m.abort).length;
        const dropped = reports.filter((m) => m.dropped).length;
        console.log(
          `[torture pg, ${kind.name}] ${docs} committed documents gapless in every series; ${aborts} aborted on purpose; ` +
            `${result.kills} workers SIGKILLed; ${terminated} backends terminated (${dropped} transactions lost to them); ` +
            `S3 checked on ${checked} reported commits`,
        );
        expect(docs).toBeGreaterThan(200);
        expect(aborts).toBeGreaterThan(10);
        expect(result.kills).toBeGreaterThan(0);
        if (terminates) expect(terminated).toBeGreaterThan(0);
      }, 90_000);
    }

    for (const pipelineMode of ['off', 'mixed'])
      it(`PostgreSQL withNumber, combining mode: 5 processes x 8 callers, failing writes, SIGKILL, pg_terminate_backend (pg pipeline mode: ${pipelineMode})`, async () => {
        const stop = { done: false };
        const terminations = terminator(stop);
        const result = await runWorkers({
          script: WORKER,
          workers: 5,
          env: {
            TORTURE_MODE: 'combine',
            TORTURE_TENANT: 'combo', // the other PostgreSQL test's counters are acme's
            TORTURE_PG: env.pgUrl(),
            TORTURE_TABLE: 'cdocs',
            TORTURE_PIPELINE: pipelineMode,
            TORTURE_DEADLINE: String(Date.now() + RUN_MS),
          },
          chaos: { intervalMs: [700, 1_500], maxKills: 6 },
          timeoutMs: RUN_MS + 40_000,
        }).finally(() => {
          stop.done = true;
        });
        const terminated = await terminations;
        const reports = result.messages as Report[];
        const { docs, checked } = await verify('cdocs', reports, 'pg');
        // Every caller told "committed" has its document, under the number it was told; no caller told
        // "failed" has one (a killed process told nobody anything).
        const { rows } = await pool.query<{
          token: string;
          tenant: string;
          series: string;
          period: string;
          number: string;
        }>('SELECT token, tenant, series, period, number FROM cdocs');
        const stored = new Map(rows.map((r) => [r.token, `${r.tenant}|${r.series}|${r.period}#${r.number}`]));
        const told = reports.filter((m) => m.tok);
        for (const m of told)
          expect(stored.get(m.tok as string), 'told committed').toBe(`${m.k}#${m.n?.[0]}`);
        const failed = reports.filter((m) => m.failed);
        for (const m of failed) expect(stored.has(m.failed as string), 'told failed').toBe(false);
        const unknown = reports.filter((m) => m.unknown).length;
        const aborts = reports.filter((m) => m.abort).length;
        const dropped = reports.filter((m) => m.dropped).length;
        const { rows: g } = await pool.query<{ docs: string; txs: string; biggest: string }>(
          'SELECT count(*) AS docs, count(DISTINCT xid) AS txs, (SELECT max(c) FROM (SELECT count(*) AS c FROM cdocs GROUP BY xid) x) AS biggest FROM cdocs',
        );
        console.log(
          `[torture combine] ${docs} committed documents gapless in every series, in ${g[0]?.txs} transactions ` +
            `(largest group ${g[0]?.biggest}); ${told.length} callers told committed, all present; ${failed.length} told failed ` +
            `(${aborts} failing writes on purpose, ${dropped} lost to terminations), none present; ${unknown} unknown outcomes; ` +
            `${result.kills} workers SIGKILLed; ${terminated} backends terminated; S3 checked on ${checked} reported commits`,
        );
        expect(docs).toBeGreaterThan(200);
        expect(aborts).toBeGreaterThan(10);
        expect(result.kills).toBeGreaterThan(0);
        expect(Number(g[0]?.txs)).toBeLessThan(docs); // requests were combined
      }, 90_000);

    it('Redis callback form: 5 processes, documents in PostgreSQL, aborts, SIGKILL, pg_terminate_backend', async () => {
      const prefix = `${env.redisPrefix()}:torture`;
      const stop = { done: false };
      const terminations = terminator(stop);
      const result = await runWorkers({
        script: WORKER,
        workers: 5,
        env: {
          TORTURE_MODE: 'redis',
          TORTURE_PG: env.pgUrl(),
          TORTURE_REDIS: env.redisUrl(),
          TORTURE_PREFIX: prefix,
          TORTURE_TABLE: 'rdocs',
          TORTURE_DEADLINE: String(Date.now() + RUN_MS),
        },
        chaos: { intervalMs: [800, 1_600], maxKills: 5 },
        timeoutMs: RUN_MS + 40_000,
      }).finally(() => {
        stop.done = true;
      });
      const terminated = await terminations;
      const reports = result.messages as Report[];
      const { docs, checked } = await verify('rdocs', reports, 'redis');
      const aborts = reports.filter((m) => m.abort).length;
      console.log(
        `[torture redis] ${docs} committed documents gapless in every series; ${aborts} aborted on purpose; ` +
          `${result.kills} workers SIGKILLed; ${terminated} document-store backends terminated; S3 checked on ${checked} reported commits`,
      );
      expect(docs).toBeGreaterThan(100);
      expect(aborts).toBeGreaterThan(5);
      expect(result.kills).toBeGreaterThan(0);
    }, 90_000);

    it('Redis: a process frozen past its lock TTL is fenced off; its document write is refused', async () => {
      const prefix = `${env.redisPrefix()}:stall`;
      const redis = new Redis(env.redisUrl());
      const tenant = currentTenant();
      try {
        const backend = new RedisSequencerBackend({ redis, prefix });
        const highest = async () => {
          const { rows } = await pool.query<{ m: string | null }>(
            'SELECT max(number) AS m FROM sdocs WHERE tenant = $1',
            [tenant],
          );
          return rows[0]?.m == null ? null : Number(rows[0].m);
        };
        const healthy = createLockedSequencer({
          lock: backend,
          store: backend,
          highestCommitted: highest,
          options: { lockTtlMs: 2_000, lockWaitMs: 5_000 },
        });
        const s = defineSeries({ key: 'stall' });
        const staller = runWorkers({
          script: WORKER,
          workers: 1,
          env: {
            TORTURE_MODE: 'stall',
            TORTURE_PG: env.pgUrl(),
            TORTURE_REDIS: env.redisUrl(),
            TORTURE_PREFIX: prefix,
            TORTURE_TENANT: tenant,
            TORTURE_TABLE: 'sdocs',
          },
          timeoutMs: 30_000,
        });
        for (let i = 0; !(await redis.get(`${prefix}:stall-holding`)); i++) {
          if (i > 300) throw new Error('staller never took the lock');
          await new Promise((r) => setTimeout(r, 20));
        }
        const mine: number[] = [];
        for (let i = 0; i < 3; i++) {
          mine.push(
            await healthy.withNumber(s, {}, async (a) => {
              await pool.query('INSERT INTO sdocs (tenant, series, period, number) VALUES ($1, $2, $3, $4)', [
                a.tenant,
                a.series,
                a.period,
                a.number,
              ]);
              return a.number;
            }),
          );
        }
        const { messages } = await staller;
        const outcome = (messages as Report[]).find((m) => m.stall)?.stall;
        const { rows } = await pool.query<{ number: string }>(
          'SELECT number FROM sdocs WHERE tenant = $1 ORDER BY number',
          [tenant],
        );
        console.log(
          `[torture stall] frozen holder outcome: ${outcome}; healthy holder committed ${mine.join(', ')}`,
        );
        expect(outcome).toBe('SEQUENCER_LOCK_LOST');
        expect(mine).toEqual([1, 2, 3]);
        expect(rows.map((r) => Number(r.number))).toEqual([1, 2, 3]);
      } finally {
        redis.disconnect();
      }
    }, 60_000);
  },
);
