import { runMigrations } from '@tenantry/core/postgres';
import { hasBackend, skipLabel } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import { defineSeries, isGapless, type Series } from '../src/index.js';
import { createPostgresSequencer, scanPostgresDocuments, sequencerMigrations } from '../src/postgres.js';
import {
  asTenant,
  codeOf,
  currentTenant,
  freshSeriesKey,
  freshTenant,
  tenantIt as it,
  useBackends,
} from './helpers.js';

const env = useBackends();

describe.skipIf(!hasBackend('postgres'))(
  `PostgreSQL in-transaction sequencer${skipLabel('postgres')}`,
  () => {
    let pool: pg.Pool;
    const seq = createPostgresSequencer({ lockTimeoutMs: 2_000 });
    const series = (def: Partial<Parameters<typeof defineSeries>[0]> = {}): Series =>
      defineSeries({ key: freshSeriesKey(), ...def });

    /** Run `fn` in its own transaction on a pooled client; commit unless `rollback`. */
    const inTx = async <T>(fn: (c: pg.PoolClient) => Promise<T>, rollback = false): Promise<T> => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const r = await fn(c);
        await c.query(rollback ? 'ROLLBACK' : 'COMMIT');
        return r;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    };
    const insertDoc = (
      c: pg.PoolClient,
      n: { tenant: string; series: string; period: string; number: number },
    ) =>
      c.query('INSERT INTO docs (tenant, series, period, number) VALUES ($1, $2, $3, $4)', [
        n.tenant,
        n.series,
        n.period,
        n.number,
      ]);

    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: env.pgUrl(), max: 10 });
      await Promise.all([runMigrations(pool, sequencerMigrations), runMigrations(pool, sequencerMigrations)]); // idempotent, even concurrently
      await pool.query(`CREATE TABLE docs (id bigserial PRIMARY KEY, tenant text, series text, period text, number bigint,
      UNIQUE (tenant, series, period, number))`);
    });
    afterAll(() => pool.end());

    it('allocates 1, 2, 3 … in the caller transaction; a rollback consumes nothing (S2, S4)', async () => {
      const s = series();
      const got: number[] = [];
      for (let i = 0; i < 3; i++) got.push((await inTx((c) => seq.next(s, { tx: c }))).number);
      const rolledBack = await inTx((c) => seq.next(s, { tx: c }), true);
      expect(rolledBack.number).toBe(4);
      got.push((await inTx((c) => seq.next(s, { tx: c }))).number);
      expect(got).toEqual([1, 2, 3, 4]);
      expect(await seq.lastCommitted(s, { db: pool })).toBe(4);
    });

    it('allocates k consecutive numbers in one statement, all or none', async () => {
      const s = series({ start: 100, format: 'B-{n:05}' });
      const batch = await inTx((c) => seq.nextBatch(s, 5, { tx: c }));
      expect(batch.map((b) => b.formatted)).toEqual(['B-00100', 'B-00101', 'B-00102', 'B-00103', 'B-00104']);
      await inTx((c) => seq.nextBatch(s, 50, { tx: c }), true);
      expect((await inTx((c) => seq.next(s, { tx: c }))).number).toBe(105);
    });

    it('waits for a locked counter rather than failing at once, then continues after the holder commits', async () => {
      const s = series();
      const holder = await pool.connect();
      await holder.query('BEGIN');
      expect((await seq.next(s, { tx: holder })).number).toBe(1);
      const started = Date.now();
      const waiter = inTx((c) => seq.next(s, { tx: c }));
      await new Promise((r) => setTimeout(r, 300));
      await holder.query('COMMIT');
      holder.release();
      expect((await waiter).number).toBe(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    });

    vitestIt.each([
      ['an existing counter (row lock)', true],
      ['a counter another transaction is creating', false],
    ])('fails with SEQUENCER_LOCK_TIMEOUT after the configured bounded wait on %s', (_label, existing) =>
      asTenant(freshTenant(), async () => {
        const s = series();
        const quick = createPostgresSequencer({ lockTimeoutMs: 200 });
        if (existing) await inTx((c) => quick.next(s, { tx: c }));
        const holder = await pool.connect();
        await holder.query('BEGIN');
        await quick.next(s, { tx: holder });
        const started = Date.now();
        expect(await codeOf(inTx((c) => quick.next(s, { tx: c })))).toBe('SEQUENCER_LOCK_TIMEOUT');
        const waited = Date.now() - started;
        expect(waited).toBeGreaterThanOrEqual(180);
        expect(waited).toBeLessThan(1_500);
        await holder.query('ROLLBACK');
        holder.release();
        expect((await inTx((c) => quick.next(s, { tx: c }))).number).toBe(existing ? 2 : 1);
      }),
    );

    it('sets lock_timeout transaction-locally (new and existing counters), or leaves it alone with null', async () => {
      const s = series();
      const untouched = createPostgresSequencer({ lockTimeoutMs: null });
      const shown = await inTx(async (c) => {
        const show = async () =>
          (await c.query<{ lock_timeout: string }>('SHOW lock_timeout')).rows[0]?.lock_timeout;
        await c.query("SET LOCAL lock_timeout = '7s'");
        await untouched.next(s, { tx: c }); // new counter: upsert path
        await untouched.next(s, { tx: c }); // existing counter: update path
        const kept = await show();
        await seq.next(series(), { tx: c });
        const afterNew = await show();
        await c.query("SET LOCAL lock_timeout = '7s'");
        await seq.next(s, { tx: c });
        return [kept, afterNew, await show()];
      });
      expect(shown).toEqual(['7s', '2s', '2s']);
      const outside = await pool.query<{ lock_timeout: string }>('SHOW lock_timeout');
      expect(outside.rows[0]?.lock_timeout).toBe('0'); // transaction-local: gone after COMMIT
    });

    it('restarts each fiscal year at the start value and never shares counters (S5)', async () => {
      const s = series({ period: 'yearly', start: 1000, format: '{prefix}{yyyy}-{n:08}', prefix: 'CCS-' });
      const other = defineSeries({ key: 'credit-note', period: 'yearly', start: 1000 });
      const a = await inTx((c) => seq.next(s, { tx: c, issueDate: '2025-12-31' }));
      const b = await inTx((c) => seq.next(s, { tx: c, issueDate: '2025-06-01' }));
      const c2026 = await inTx((c) => seq.next(s, { tx: c, issueDate: new Date('2026-01-01T00:00:00Z') }));
      const cn = await inTx((c) => seq.next(other, { tx: c, issueDate: '2025-12-31' }));
      expect([a.formatted, b.formatted, c2026.formatted]).toEqual([
        'CCS-2025-00001000',
        'CCS-2025-00001001',
        'CCS-2026-00001000',
      ]);
      expect(cn.number).toBe(1000);
      expect(await seq.lastCommitted(s, { db: pool, issueDate: '2025-01-01' })).toBe(1001);
    });

    it('refuses an issue date earlier than the last committed one when chronology is on', async () => {
      const s = series({ chronology: true, period: 'yearly' });
      await inTx((c) => seq.next(s, { tx: c, issueDate: '2026-03-02' }));
      await inTx((c) => seq.next(s, { tx: c, issueDate: '2026-03-02' }));
      expect(await codeOf(inTx((c) => seq.next(s, { tx: c, issueDate: '2026-03-01' })))).toBe(
        'SEQUENCER_CHRONOLOGY_VIOLATION',
      );
      expect((await inTx((c) => seq.next(s, { tx: c, issueDate: '2026-03-05' }))).number).toBe(3);
      const loose = defineSeries({ key: s.key, period: 'yearly' });
      expect((await inTx((c) => seq.next(loose, { tx: c, issueDate: '2026-01-01' }))).number).toBe(4);
    });

    it('the stored issue date only advances (an undated call or an earlier date on a non-chronological series keeps it): chronology still refuses an earlier date', async () => {
      const loose = series();
      await inTx((c) => seq.next(loose, { tx: c, issueDate: '2026-03-05' }));
      await inTx((c) => seq.next(loose, { tx: c })); // undated: no date terms
      await inTx((c) => seq.next(loose, { tx: c, issueDate: '2026-01-01' })); // earlier, not checked: kept 03-05
      const strict = defineSeries({ key: loose.key, chronology: true });
      expect(await codeOf(inTx((c) => seq.next(strict, { tx: c, issueDate: '2026-03-01' })))).toBe(
        'SEQUENCER_CHRONOLOGY_VIOLATION',
      );
      expect((await inTx((c) => seq.next(strict, { tx: c, issueDate: '2026-03-05' }))).number).toBe(4);
    });

    it('an allocation sends only the terms its call needs (less for PostgreSQL to parse and plan on every call)', async () => {
      const s = series();
      await inTx((c) => seq.next(s, { tx: c })); // creates the counter (upsert)
      const sent: Array<{ text: string; values: unknown[] }> = [];
      const capture = <T>(fn: (c: pg.PoolClient) => Promise<T>) =>
        inTx(async (c) => {
          const query = c.query.bind(c) as (...a: unknown[]) => Promise<unknown>;
          const spy = Object.assign(Object.create(c) as pg.PoolClient, {
            query: (...a: unknown[]) => {
              if (typeof a[0] === 'string') sent.push({ text: a[0], values: (a[1] as unknown[]) ?? [] });
              return query(...a);
            },
          });
          return fn(spy);
        });
      const n = await capture((c) => seq.next(s, { tx: c }));
      expect(n.number).toBe(2);
      expect(sent).toHaveLength(1); // one round trip
      expect(sent[0]?.text).not.toMatch(/issue_date|::date|::boolean/);
      expect(sent[0]?.values).toEqual([n.tenant, s.key, '', 1, 1, '2000ms']);
      const dated = await capture((c) => seq.next(s, { tx: c, issueDate: '2026-03-05' }));
      expect(dated.number).toBe(3);
      expect(sent[1]?.text).toMatch(/GREATEST/); // the stored issue date advances
      expect(sent[1]?.text).not.toMatch(/<=|::boolean/); // no chronology check: the series has none
      expect(sent[1]?.values).toEqual([n.tenant, s.key, '', 1, 1, '2026-03-05', '2000ms']);
      const plain = createPostgresSequencer({ lockTimeoutMs: null });
      await capture((c) => plain.next(s, { tx: c }));
      expect(sent[2]?.text).not.toMatch(/set_config/);
      expect(sent[2]?.values).toHaveLength(5);
    });

    it('voids keep the number consumed and are never reissued (S4)', async () => {
      const s = series();
      for (let i = 0; i < 3; i++) await inTx((c) => seq.next(s, { tx: c }));
      const v = await inTx((c) => seq.void(s, 2, { tx: c, reason: 'customer cancelled' }));
      expect(v.number).toBe(2);
      expect(await codeOf(inTx((c) => seq.void(s, 2, { tx: c, reason: 'again' })))).toBe(
        'SEQUENCER_ALREADY_VOIDED',
      );
      expect(await codeOf(inTx((c) => seq.void(s, 9, { tx: c, reason: 'x' })))).toBe(
        'SEQUENCER_NUMBER_NOT_ISSUED',
      );
      expect(await codeOf(inTx((c) => seq.void(s, 0, { tx: c, reason: 'x' })))).toBe(
        'SEQUENCER_NUMBER_NOT_ISSUED',
      );
      expect((await inTx((c) => seq.next(s, { tx: c }))).number).toBe(4);
      expect((await seq.voids(s, { db: pool })).map((x) => [x.number, x.reason])).toEqual([
        [2, 'customer cancelled'],
      ]);
    });

    it('needs the issue date for yearly series and refuses another tenant inside a tenant context', async () => {
      const s = series({ period: 'yearly' });
      expect(await codeOf(inTx((c) => seq.next(s, { tx: c })))).toBe('SEQUENCER_ISSUE_DATE_REQUIRED');
      expect(
        await codeOf(inTx((c) => seq.next(s, { tx: c, issueDate: '2026-01-01', tenantId: 'someone-else' }))),
      ).toBe('TENANT_CONTEXT_CONFLICT');
    });

    it('refuses a Pool or a client outside BEGIN (SEQUENCER_NOT_IN_TRANSACTION) and writes nothing (S4)', async () => {
      const s = series();
      await inTx((c) => seq.next(s, { tx: c }));
      // A Pool autocommits each statement: the number would be consumed even if the document failed.
      // @ts-expect-error a Pool is not a transaction
      expect(await codeOf(seq.next(s, { tx: pool }))).toBe('SEQUENCER_NOT_IN_TRANSACTION');
      // @ts-expect-error a Pool is not a transaction
      expect(await codeOf(seq.nextBatch(s, 3, { tx: pool }))).toBe('SEQUENCER_NOT_IN_TRANSACTION');
      // @ts-expect-error a Pool is not a transaction
      expect(await codeOf(seq.void(s, 1, { tx: pool, reason: 'x' }))).toBe('SEQUENCER_NOT_IN_TRANSACTION');
      // A checked-out client that never ran BEGIN autocommits too.
      const c = await pool.connect();
      try {
        expect(await codeOf(seq.next(s, { tx: c }))).toBe('SEQUENCER_NOT_IN_TRANSACTION');
        expect(await codeOf(seq.void(s, 1, { tx: c, reason: 'x' }))).toBe('SEQUENCER_NOT_IN_TRANSACTION');
        // After COMMIT the client is outside a block again.
        await c.query('BEGIN');
        expect((await seq.next(s, { tx: c })).number).toBe(2);
        await c.query('COMMIT');
        expect(await codeOf(seq.next(s, { tx: c }))).toBe('SEQUENCER_NOT_IN_TRANSACTION');
      } finally {
        c.release();
      }
      expect(await seq.lastCommitted(s, { db: pool })).toBe(2);
      expect(await seq.voids(s, { db: pool })).toEqual([]);
      // A failed document write after a refused call leaves no gap: the next number is 3.
      expect((await inTx((c2) => seq.next(s, { tx: c2 }))).number).toBe(3);
    });

    vitestIt.each([['REPEATABLE READ'], ['SERIALIZABLE']])(
      'maps serialization failures at %s to the retryable SEQUENCER_SERIALIZATION_FAILURE; numbers stay gapless',
      (level) =>
        asTenant(freshTenant(), async () => {
          const s = series();
          await inTx((c) => seq.next(s, { tx: c })); // the counter row exists and is committed
          const clients = await Promise.all(Array.from({ length: 8 }, () => pool.connect()));
          try {
            // Every transaction takes its snapshot first, so all of them see the counter at 1.
            for (const c of clients) {
              await c.query(`BEGIN ISOLATION LEVEL ${level}`);
              await c.query('SELECT 1');
            }
            const outcomes = await Promise.all(
              clients.map(async (c) => {
                try {
                  const n = await seq.next(s, { tx: c });
                  await insertDoc(c, n);
                  await c.query('COMMIT');
                  return 'ok';
                } catch (e) {
                  await c.query('ROLLBACK').catch(() => undefined);
                  const err = e as { code?: string; status?: number; retryable?: boolean };
                  return `${err.code}/${err.status}/${err.retryable}`;
                }
              }),
            );
            expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
            expect(outcomes.filter((o) => o !== 'ok')).toEqual(
              Array.from({ length: 7 }, () => 'SEQUENCER_SERIALIZATION_FAILURE/503/true'),
            );
          } finally {
            for (const c of clients) c.release();
          }
          // Retrying the failed transactions (as the code says) numbers them on, with no gap.
          for (let i = 0; i < 7; i++) {
            await inTx(async (c) => {
              await c.query(`SET TRANSACTION ISOLATION LEVEL ${level}`);
              await insertDoc(c, await seq.next(s, { tx: c }));
            });
          }
          expect(await seq.lastCommitted(s, { db: pool })).toBe(9);
          const { rows } = await pool.query<{ n: string }>(
            'SELECT number AS n FROM docs WHERE tenant = $1 AND series = $2 ORDER BY number',
            [currentTenant(), s.key],
          );
          expect(rows.map((r) => Number(r.n))).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
        }),
    );

    it('says SEQUENCER_NOT_MIGRATED when the tables are missing', async () => {
      await pool.query('CREATE SCHEMA IF NOT EXISTS empty_schema');
      const code = await codeOf(
        inTx(async (c) => {
          await c.query('SET LOCAL search_path = empty_schema');
          return seq.next(series(), { tx: c });
        }),
      );
      expect(code).toBe('SEQUENCER_NOT_MIGRATED');
    });

    it('works without named statements (e.g. for PGlite)', async () => {
      const plain = createPostgresSequencer({ namedStatements: false, lockTimeoutMs: null });
      const s = series();
      expect((await inTx((c) => plain.next(s, { tx: c }))).number).toBe(1);
      expect((await inTx((c) => seq.next(s, { tx: c }))).number).toBe(2);
    });

    it('stays gapless with 8 concurrent writers, a third of them rolling back, and the scan proves it', async () => {
      const s = series();
      let committed = 0;
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 25; i++) {
            const abort = (w + i) % 3 === 0;
            await inTx(async (c) => {
              const n = await seq.next(s, { tx: c });
              await insertDoc(c, n);
            }, abort);
            if (!abort) committed++;
          }
        }),
      );
      const report = await scanPostgresDocuments(pool, {
        table: 'docs',
        series: s.key,
        period: '',
      });
      expect(report).toMatchObject({ count: committed, distinct: committed, first: 1, last: committed });
      expect(isGapless(report)).toBe(true);
    });

    it('the document scan finds gaps and duplicates a broken numbering left', async () => {
      const t = currentTenant();
      await pool.query('CREATE TABLE broken (tenant text, series text, period text, number bigint)');
      for (const n of [1, 2, 2, 5, 6, 9])
        await pool.query("INSERT INTO broken VALUES ($1, 'inv', '', $2)", [t, n]);
      const r = await scanPostgresDocuments(pool, { table: 'broken', series: 'inv', period: '' });
      expect(r).toMatchObject({ count: 6, distinct: 5, first: 1, last: 9 });
      expect(r.gaps).toEqual([
        { from: 3, to: 4 },
        { from: 7, to: 8 },
      ]);
      expect(r.duplicates).toEqual([{ number: 2, count: 2 }]);
      expect(
        await codeOf(scanPostgresDocuments(pool, { table: 'broken; drop table docs', series: 'inv' })),
      ).toBe('VALIDATION_FAILED');
    });
  },
);
