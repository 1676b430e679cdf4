import { hasBackend, skipLabel } from '@tenantry/testkit';
import { PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostgresApprovalStore } from '../src/postgres.js';
import { migrated, usePostgres } from './helpers.js';

const db = usePostgres();
// Captured before any test fakes the timers.
const realSetTimeout = globalThis.setTimeout;
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'TIMED_OUT'> =>
  Promise.race([p, new Promise<'TIMED_OUT'>((r) => realSetTimeout(() => r('TIMED_OUT'), ms))]);

type Queryable = { query(text: string, values?: unknown[]): Promise<unknown> };

describe.skipIf(!hasBackend('postgres'))(
  `PostgreSQL store: the handle given to hooks, COMMIT that rolls back, fake timers${skipLabel('postgres')}`,
  () => {
    beforeAll(async () => {
      await migrated(db.pool());
      await db.pool().query('CREATE TABLE IF NOT EXISTS attack_effects (note text)');
    });
    afterAll(() => db.pool().end());

    // The store releases the corked socket with `setImmediate`; an application test that fakes timers
    // (vitest's `vi.useFakeTimers()` fakes setImmediate by default; so do sinon/jest) never gets its
    // writes sent: the unit hangs. The tenant unit of work, the sequencer and the audit sink uncork
    // synchronously and do not hang.
    it('pipelined pool under vi.useFakeTimers(): a unit of work completes (its corked writes are released)', async () => {
      const pool = new pg.Pool({ connectionString: db.url(), max: 2, pipeline: true });
      pool.on('error', () => undefined);
      const store = new PostgresApprovalStore({ pool });
      // Warm the pool (connect uses timers of its own).
      await (await pool.connect()).release();
      vi.useFakeTimers();
      let outcome: unknown;
      try {
        outcome = await within(
          store.unitOfWork(async (tx) => {
            const r = (await (tx.handle as Queryable).query('SELECT 1 AS one')) as {
              rows: { one: number }[];
            };
            return r.rows[0]?.one;
          }),
          3000,
        );
      } finally {
        // Release what the fake clock holds, so the pool can end.
        vi.runOnlyPendingTimers();
        vi.useRealTimers();
      }
      expect(outcome).toBe(1);
      await pool.end();
    });

    // "A COMMIT answered ROLLBACK now fails with APPROVAL_CONFLICT on every pool": the adapters' executors
    // (Kysely, postgres.js, Drizzle over postgres.js) return no `command`, so the check never fires there
    // and the unit reports success for a transaction the server rolled back.
    for (const kind of PG_CLIENT_KINDS) {
      it(`through ${kind.name}: a statement that failed inside the unit (error caught) fails the unit with APPROVAL_CONFLICT`, async () => {
        const client = kind.open(db.url(), { max: 2 });
        try {
          const store = new PostgresApprovalStore({ pool: client.pool });
          const note = `${kind.name}-${Date.now()}`;
          const settled = await store
            .unitOfWork(async (tx) => {
              const h = tx.handle as Queryable;
              await h.query('INSERT INTO attack_effects (note) VALUES ($1)', [note]);
              await h.query('SELECT 1/0').catch(() => undefined);
              return 'reported success';
            })
            .then(
              (v) => v,
              (e: { code?: string }) => e.code,
            );
          const stored = await db.pool().query('SELECT 1 FROM attack_effects WHERE note = $1', [note]);
          expect(stored.rowCount).toBe(0); // the server rolled back
          expect(settled).toBe('APPROVAL_CONFLICT');
        } finally {
          await client.close();
        }
      });
    }
    // T3: the store hands hooks and handlers the pooled client itself. Kept (a closure, a timer) past the
    // unit, it runs statements on the connection after it went back to the pool: inside whatever
    // transaction its next holder runs, another tenant's included. (Reading `tx.handle` late also sends a
    // stray BEGIN on it when the unit sent nothing.) The tenant unit of work refuses such queries
    // (UNIT_OF_WORK_ENDED); the store should too.
    for (const pipeline of [false, true]) {
      it(`${pipeline ? 'pipelined' : 'plain'} pool: a handle kept past the unit is refused, never run in the next holder's transaction`, async () => {
        const pool = new pg.Pool({ connectionString: db.url(), max: 1, pipeline });
        pool.on('error', () => undefined);
        try {
          const store = new PostgresApprovalStore({ pool });
          let kept: Queryable | undefined;
          await store.unitOfWork(async (tx) => {
            kept = tx.handle as Queryable;
            await kept.query('SELECT 1');
          });
          // The same physical connection (max: 1), now another tenant's transaction.
          const next = await pool.connect();
          try {
            await next.query("BEGIN; SET LOCAL app.tenant_id TO 'other-tenant'");
            const leaked = await kept!.query("SELECT current_setting('app.tenant_id', true) AS t").then(
              (r) => (r as { rows: { t: string }[] }).rows[0]?.t,
              (e: { code?: string }) => e.code,
            );
            expect(leaked).toBe('UNIT_OF_WORK_ENDED');
            await next.query('ROLLBACK');
          } finally {
            next.release();
          }
        } finally {
          await pool.end();
        }
      });
    }
  },
);
