// Attacks on the per-call-shape allocation UPDATE (dated / chronological / undated, with or without a
// lock timeout, named or not): shapes mixed on one connection, and a chronological allocation that waits
// on the counter row while a later-dated one commits must be refused, not numbered after it.
import { runMigrations } from '@tenantry/core/postgres';
import { hasBackend, skipLabel } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { defineSeries } from '../src/index.js';
import { createPostgresSequencer, sequencerMigrations } from '../src/postgres.js';
import { freshSeriesKey, tenantIt as it, useBackends } from './helpers.js';

const env = useBackends();

async function inTx<R>(client: pg.ClientBase, fn: (c: pg.ClientBase) => Promise<R>): Promise<R> {
  await client.query('BEGIN');
  try {
    const r = await fn(client);
    await client.query('COMMIT');
    return r;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? 'untyped',
  );

describe.skipIf(!hasBackend('postgres'))(`allocation UPDATE shapes${skipLabel('postgres')}`, () => {
  const clients: pg.Client[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const c = new pg.Client({ connectionString: env.pgDirectUrl() });
      await c.connect();
      clients.push(c);
    }
    const pool = new pg.Pool({ connectionString: env.pgDirectUrl(), max: 1 });
    await runMigrations(pool, sequencerMigrations).finally(() => pool.end());
  });
  afterAll(async () => {
    for (const c of clients) await c.end();
  });

  for (const namedStatements of [false, true]) {
    it(`every shape on one connection keeps numbers and the chronology (namedStatements: ${namedStatements})`, async () => {
      const [c] = clients as [pg.Client];
      const timed = createPostgresSequencer({ namedStatements, lockTimeoutMs: 2_000 });
      const untimed = createPostgresSequencer({ namedStatements, lockTimeoutMs: null });
      const key = freshSeriesKey();
      const chrono = defineSeries({ key, chronology: true });
      const plain = defineSeries({ key }); // the same counter, defined without chronology
      const next = (seq: typeof timed, s: typeof chrono, issueDate?: string) =>
        inTx(c, (tx) => seq.next(s, issueDate === undefined ? { tx } : { tx, issueDate })).then(
          (n) => n.number,
        );
      expect(await next(timed, chrono, '2026-03-05')).toBe(1); // ct
      expect(await next(untimed, chrono, '2026-03-05')).toBe(2); // c
      expect(await next(untimed, plain)).toBe(3); // n: keeps the stored date
      expect(await next(timed, plain)).toBe(4); // nt
      expect(await codeOf(next(timed, chrono, '2026-03-04'))).toBe('SEQUENCER_CHRONOLOGY_VIOLATION');
      expect(await codeOf(next(untimed, chrono, '2026-03-04'))).toBe('SEQUENCER_CHRONOLOGY_VIOLATION');
      expect(await next(untimed, plain, '2026-03-09')).toBe(5); // d: moves the stored date forward
      expect(await next(timed, plain, '2026-03-01')).toBe(6); // dt: an earlier date does not move it back
      expect(await codeOf(next(untimed, chrono, '2026-03-08'))).toBe('SEQUENCER_CHRONOLOGY_VIOLATION');
      expect(await next(timed, chrono, '2026-03-09')).toBe(7);
      const { rows } = await c.query<{ d: string }>(
        "SELECT to_char(last_issue_date, 'YYYY-MM-DD') AS d FROM tenantry_sequencer_counters WHERE series = $1",
        [key],
      );
      expect(rows.map((r) => r.d)).toEqual(['2026-03-09']);
    });

    it(`lockTimeoutMs applies in every shape (undated, dated, chronological) while another transaction holds the row (named ${namedStatements})`, async () => {
      const [a, b] = clients as [pg.Client, pg.Client];
      const seq = createPostgresSequencer({ namedStatements, lockTimeoutMs: 300 });
      const key = freshSeriesKey();
      const chrono = defineSeries({ key, chronology: true });
      const plain = defineSeries({ key });
      expect((await inTx(a, (tx) => seq.next(chrono, { tx, issueDate: '2026-03-01' }))).number).toBe(1);
      await a.query('BEGIN');
      try {
        await seq.next(plain, { tx: a });
        const calls: Array<[typeof plain, string | undefined]> = [
          [plain, undefined],
          [plain, '2026-03-02'],
          [chrono, '2026-03-02'],
        ];
        for (const [s, issueDate] of calls) {
          const started = performance.now();
          const code = await codeOf(
            inTx(b, (tx) => seq.next(s, issueDate === undefined ? { tx } : { tx, issueDate })),
          );
          expect([code, performance.now() - started < 3_000]).toEqual(['SEQUENCER_LOCK_TIMEOUT', true]);
        }
      } finally {
        await a.query('ROLLBACK');
      }
      // Nothing was consumed by the timed-out calls nor by the rolled-back one.
      expect((await inTx(b, (tx) => seq.next(chrono, { tx, issueDate: '2026-03-02' }))).number).toBe(2);
    });

    for (const lockTimeoutMs of [null, 5_000]) {
      it(`a chronological allocation waiting on the row while a later date commits is refused (named ${namedStatements}, lockTimeoutMs ${lockTimeoutMs})`, async () => {
        const [a, b] = clients as [pg.Client, pg.Client];
        const seq = createPostgresSequencer({ namedStatements, lockTimeoutMs });
        const s = defineSeries({ key: freshSeriesKey(), chronology: true });
        expect((await inTx(a, (tx) => seq.next(s, { tx, issueDate: '2026-03-01' }))).number).toBe(1);
        await a.query('BEGIN');
        expect((await seq.next(s, { tx: a, issueDate: '2026-03-10' })).number).toBe(2);
        // b waits on the row a holds, with a date between the stored one and a's.
        const waiting = codeOf(inTx(b, (tx) => seq.next(s, { tx, issueDate: '2026-03-05' })));
        await new Promise((r) => setTimeout(r, 200));
        await a.query('COMMIT');
        expect(await waiting).toBe('SEQUENCER_CHRONOLOGY_VIOLATION');
        expect((await inTx(b, (tx) => seq.next(s, { tx, issueDate: '2026-03-10' }))).number).toBe(3);
      });
    }
  }
});
