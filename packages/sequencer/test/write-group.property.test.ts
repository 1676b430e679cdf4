// The savepoint renumbering of one combined group, over random success/failure patterns, against a real
// PostgreSQL: successes get mark+1… in request order, with no hole where a write failed; every failure
// gets its own error and leaves nothing; the counter moves once, by the number of successes.
import { runMigrations } from '@tenantry/core/postgres';
import { hasBackend, skipLabel } from '@tenantry/testkit';
import { metrics } from '@opentelemetry/api';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Combiner } from '../src/combining.js';
import { serveWriteGroup, type WriteRequest } from '../src/backends/postgres/write-group.js';
import { defineSeries } from '../src/index.js';
import { sequencerMigrations } from '../src/postgres.js';
import { freshTenant, useBackends } from './helpers.js';

const env = useBackends();
type Step = 'ok' | 'throw' | 'sql' | 'sql-after-insert' | 'swallowed-sql' | 'early-date';

// With `pg` awaiting each reply, and in pipeline mode (each savepoint written with its write).
describe.skipIf(!hasBackend('postgres')).each([
  { pipeline: false, mode: 'one reply at a time' },
  { pipeline: true, mode: 'pg pipeline mode' },
])(`combined group renumbering (property), $mode${skipLabel('postgres')}`, ({ pipeline }) => {
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: env.pgUrl(), max: 4, pipeline });
    await runMigrations(pool, sequencerMigrations);
    await pool.query(`CREATE TABLE IF NOT EXISTS pdocs (tenant text NOT NULL, series text NOT NULL, period text NOT NULL,
      number bigint NOT NULL, label text NOT NULL, PRIMARY KEY (tenant, series, period, number))`);
  });
  afterAll(() => pool.end());

  it('numbers the successes consecutively in request order, whatever fails in between', async () => {
    const series = defineSeries({ key: 'prop', chronology: true });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.constantFrom<Step>(
            'ok',
            'ok',
            'ok',
            'throw',
            'sql',
            'sql-after-insert',
            'swallowed-sql',
            'early-date',
          ),
          {
            minLength: 1,
            maxLength: 14,
          },
        ),
        fc.integer({ min: 0, max: 3 }), // committed before the group
        fc.integer({ min: 1, max: 1_000 }), // start
        async (steps, before, start) => {
          const tenant = freshTenant();
          const key = { tenant, series: series.key, period: '', start };
          if (before > 0)
            await pool.query(
              `INSERT INTO tenantry_sequencer_counters (tenant, series, period, last_value, last_issue_date)
               VALUES ($1, $2, '', $3, '2026-01-10')`,
              [tenant, series.key, start + before - 1],
            );
          const settled: Array<{ ok: number } | { err: string }> = [];
          const group: WriteRequest[] = steps.map((step, i) => ({
            series,
            req: {
              key,
              issueDate: step === 'early-date' && before > 0 ? '2026-01-01' : '2026-01-10',
              count: 1,
            },
            queuedAt: 0,
            resolve: (v) => {
              settled[i] = { ok: v as number };
            },
            reject: (e) => {
              settled[i] = { err: (e as { code?: string }).code ?? (e as Error).message };
            },
            write: async ({ tx, number }) => {
              if (step === 'throw') throw new Error('own');
              if (step === 'sql') await tx.query('SELECT 1 / 0');
              await tx.query('INSERT INTO pdocs VALUES ($1, $2, $3, $4, $5)', [
                tenant,
                series.key,
                '',
                number,
                `r${i}`,
              ]);
              if (step === 'sql-after-insert') await tx.query('SELECT 1 / 0');
              if (step === 'swallowed-sql') await tx.query('SELECT 1 / 0').catch(() => undefined);
              return number;
            },
          }));
          await serveWriteGroup(pool, group, '2000ms', 2_000);

          const fails = (s: Step) =>
            s === 'throw'
              ? 'own'
              : s === 'sql' || s === 'sql-after-insert'
                ? '22012'
                : s === 'swallowed-sql'
                  ? 'SEQUENCER_STORE_FAILED'
                  : s === 'early-date' && before > 0
                    ? 'SEQUENCER_CHRONOLOGY_VIOLATION'
                    : undefined;
          let next = start + before;
          const expected = steps.map((s) => {
            const f = fails(s);
            if (f !== undefined) return { err: f };
            return { ok: next++ };
          });
          // A group of one runs without a savepoint: its failure rolls the transaction back; same outcomes.
          expect(settled).toEqual(expected);
          const { rows } = await pool.query<{ number: string; label: string }>(
            'SELECT number, label FROM pdocs WHERE tenant = $1 ORDER BY number',
            [tenant],
          );
          expect(rows.map((r) => [Number(r.number), r.label])).toEqual(
            expected.flatMap((e, i) => ('ok' in e ? [[e.ok, `r${i}`]] : [])),
          );
          const { rows: c } = await pool.query<{ last_value: string | null }>(
            'SELECT last_value FROM tenantry_sequencer_counters WHERE tenant = $1',
            [tenant],
          );
          const mark = next - 1;
          expect(c[0]?.last_value == null ? start - 1 : Number(c[0].last_value)).toBe(mark);
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 60) },
    );
  }, 120_000);
});

describe('Combiner (per-key queues of one process)', () => {
  const req = () => ({ queuedAt: performance.now() });

  it('serves requests in arrival order, in groups no larger than maxGroupSize, one group of a key at a time', async () => {
    const groups: number[][] = [];
    let running = 0;
    let overlap = false;
    const c = new Combiner<{ queuedAt: number; id: number }>({ maxGroupSize: 3, maxWaitMs: 0 }, async (g) => {
      overlap ||= running > 0;
      running++;
      groups.push(g.map((r) => r.id));
      await new Promise((r) => setTimeout(r, 5));
      running--;
    });
    for (let id = 0; id < 10; id++) c.submit('k', { ...req(), id });
    const t0 = performance.now();
    while (groups.flat().length < 10 && performance.now() - t0 < 5_000)
      await new Promise((r) => setTimeout(r, 10));
    expect(overlap).toBe(false);
    expect(groups.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(groups[0]).toEqual([0]); // the first request found the key idle: served at once (maxWaitMs 0)
    expect(Math.max(...groups.map((g) => g.length))).toBe(3);
  });

  it('waits up to maxWaitMs for a group to fill, and no longer; keys never share a group', async () => {
    const groups: string[][] = [];
    const c = new Combiner<{ queuedAt: number; id: string }>(
      { maxGroupSize: 4, maxWaitMs: 400 },
      async (g) => {
        groups.push(g.map((r) => r.id));
      },
    );
    const tick = () => new Promise((r) => setImmediate(r));
    const t0 = performance.now();
    c.submit('a', { ...req(), id: 'a1' });
    c.submit('b', { ...req(), id: 'b1' });
    c.submit('a', { ...req(), id: 'a2' });
    await tick();
    expect(groups).toEqual([]); // both keys still waiting for more
    for (const id of ['a3', 'a4']) c.submit('a', { ...req(), id });
    await tick();
    expect(groups).toEqual([['a1', 'a2', 'a3', 'a4']]); // full: served before the wait ended
    while (groups.length < 2 && performance.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 10));
    expect(groups).toEqual([['a1', 'a2', 'a3', 'a4'], ['b1']]); // alone, once its wait ran out
    expect(performance.now() - t0).toBeGreaterThanOrEqual(395);
  });

  it('records group sizes and waits as histograms of the meter @tenantry/sequencer (SDK registered late)', async () => {
    const recorded: Record<string, number[]> = {};
    const meters: string[] = [];
    // A stand-in SDK, registered after the module was loaded.
    metrics.setGlobalMeterProvider({
      getMeter: (name: string) => {
        meters.push(name);
        return {
          createHistogram: (metric: string) => ({
            record: (v: number) => {
              recorded[metric] ??= [];
              recorded[metric]?.push(v);
            },
          }),
        } as never;
      },
    });
    try {
      const c = new Combiner<{ queuedAt: number }>({ maxGroupSize: 3, maxWaitMs: 20 }, async () => undefined);
      for (let i = 0; i < 3; i++) c.submit('k', req());
      const t0 = performance.now();
      while (!recorded['tenantry.sequencer.group.size'] && performance.now() - t0 < 5_000)
        await new Promise((r) => setTimeout(r, 5));
      expect(meters).toContain('@tenantry/sequencer');
      expect(recorded['tenantry.sequencer.group.size']).toEqual([3]);
      expect(recorded['tenantry.sequencer.group.wait']).toHaveLength(3);
    } finally {
      metrics.disable();
    }
  });
});
