import { type AuditPort, MemoryAuditPort, ManualClock, runAsSystem, runAsTenant } from '@tenantry/core';
import { settledCode } from '@tenantry/core/testing';
import { hasBackend, recordSocketWrites, skipLabel, uniqueId } from '@tenantry/testkit';
import { PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalEngine, createApprovalEngine } from '../src/index.js';
import { PostgresApprovalStore } from '../src/postgres.js';
import { migrated, usePostgres } from './helpers.js';

const db = usePostgres();
const maker = { id: 'maker', roles: ['OPERATOR'] };
const alice = { id: 'alice', roles: ['MANAGER'] };
const carol = { id: 'carol', roles: ['MANAGER'] };
const admin = { id: 'admin', roles: ['TENANT_ADMIN'] };
let tenantSeq = 0;

// Once awaiting each reply, once in `pg`'s pipeline mode (issue 14: BEGIN and savepoints written with
// the statements behind them).
describe.skipIf(!hasBackend('postgres')).each([
  { pipeline: false, mode: 'one reply at a time' },
  { pipeline: true, mode: 'pg pipeline mode' },
])(
  `PostgreSQL: one transaction for request, lock, decision, effect and mark, $mode${skipLabel('postgres')}`,
  ({ pipeline }) => {
    let pool: pg.Pool;
    beforeAll(async () => {
      pool = await migrated(
        pipeline ? new pg.Pool({ connectionString: db.url(), max: 6, pipeline: true }) : db.pool(),
      );
      await pool.query(`CREATE TABLE IF NOT EXISTS assets (tenant_id text, id text, status text NOT NULL DEFAULT 'ACTIVE', PRIMARY KEY (tenant_id, id));
      CREATE TABLE IF NOT EXISTS effects (tenant_id text, request_id uuid, note text)`);
    });
    afterAll(() => pool.end());

    /** An engine whose lock hook and handler write through the transaction they are given. */
    const setup = async (
      options: { audit?: AuditPort; throwAfterWrite?: boolean; unlockSwallowsError?: boolean } = {},
    ) => {
      const tenant = `pg-${++tenantSeq}-${Date.now().toString(36)}`;
      const clock = new ManualClock('2030-01-01T00:00:00Z');
      const engine = createApprovalEngine({
        store: new PostgresApprovalStore({ pool }),
        audit: options.audit ?? new MemoryAuditPort(),
        clock,
      });
      const q = (tx: unknown) => tx as pg.PoolClient;
      engine.registerResource('asset', {
        lock: async ({ transaction, tenantId, resource }) => {
          await q(transaction).query(
            `UPDATE assets SET status = 'PENDING_DELETION' WHERE tenant_id = $1 AND id = $2`,
            [tenantId, resource.id],
          );
        },
        unlock: async ({ transaction, tenantId, resource }) => {
          // A hook that catches a failed statement, its last: the transaction is aborted, and the
          // COMMIT after it rolls back.
          if (options.unlockSwallowsError) {
            await q(transaction)
              .query('SELECT 1/0')
              .catch(() => undefined);
            return;
          }
          await q(transaction).query(
            `UPDATE assets SET status = 'ACTIVE' WHERE tenant_id = $1 AND id = $2 AND status = 'PENDING_DELETION'`,
            [tenantId, resource.id],
          );
        },
      });
      engine.registerAction('asset.delete', {
        execute: async ({ transaction, tenantId, request }) => {
          await q(transaction).query('INSERT INTO effects VALUES ($1, $2, $3)', [
            tenantId,
            request.id,
            'deleted',
          ]);
          await q(transaction).query('DELETE FROM assets WHERE tenant_id = $1 AND id = $2', [
            tenantId,
            request.resource.id,
          ]);
          if (options.throwAfterWrite) throw Object.assign(new Error('boom'), { code: 'DOWNSTREAM_REFUSED' });
        },
      });
      const as = <R>(actor: typeof maker, fn: (e: ApprovalEngine) => Promise<R>) =>
        runAsTenant({ tenantId: tenant, actor }, () => fn(engine));
      await as(admin, (e) =>
        e.setPolicies({
          policies: [
            { action: 'asset.delete', approvalsRequired: 2, approverRoles: ['MANAGER'], ttlMs: 60_000 },
          ],
        }),
      );
      await pool.query('INSERT INTO assets (tenant_id, id) VALUES ($1, $2)', [tenant, 'a1']);
      const asset = async () =>
        (
          await pool.query<{ status: string }>('SELECT status FROM assets WHERE tenant_id = $1 AND id = $2', [
            tenant,
            'a1',
          ])
        ).rows[0]?.status ?? 'GONE';
      const effects = async () =>
        Number(
          (
            await pool.query<{ n: string }>('SELECT count(*) AS n FROM effects WHERE tenant_id = $1', [
              tenant,
            ])
          ).rows[0]!.n,
        );
      const rows = async () =>
        Number(
          (
            await pool.query<{ n: string }>(
              'SELECT count(*) AS n FROM tenantry_approval_requests WHERE tenant_id = $1',
              [tenant],
            )
          ).rows[0]!.n,
        );
      const ask = (transaction?: unknown) =>
        as(maker, (e) =>
          e.request(
            { action: 'asset.delete', resource: { type: 'asset', id: 'a1' }, justification: 'old' },
            transaction ? { transaction } : {},
          ),
        );
      return { tenant, engine, clock, as, asset, effects, rows, ask };
    };

    const inTransaction = async <R>(fn: (c: pg.PoolClient) => Promise<R>, commit: boolean): Promise<R> => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const r = await fn(c);
        await c.query(commit ? 'COMMIT' : 'ROLLBACK');
        return r;
      } finally {
        c.release();
      }
    };

    it('socket writes per transition: BEGIN travels with the first statement (in its message for the SELECT of the request); one write per round trip', async () => {
      const s = await setup();
      const { id } = await s.ask();
      await s.as(alice, (e) => e.approve({ requestId: id, comment: 'warm' }));
      // Every socket write of the process while one transition runs (nothing else runs meanwhile).
      const log = recordSocketWrites();
      try {
        // The second approval: BEGIN, SELECT, UPDATE (the mark), the handler's INSERT and DELETE, the
        // unlock hook's UPDATE, COMMIT: the handler runs in the marking transaction, which the store
        // owns, so no savepoint.
        const done = await s.as(carol, (e) => e.approve({ requestId: id, comment: 'ok' }));
        expect(done.executionState).toBe('EXECUTED');
      } finally {
        log.restore();
      }
      // [BEGIN; SELECT] [UPDATE] [INSERT] [DELETE] [UPDATE] [COMMIT]: BEGIN travels in the SELECT's
      // message (simple protocol, the ids as literals), in both modes.
      expect(log.writes).toHaveLength(6);
      expect(log.writes[0]).toMatch(
        /BEGIN; SELECT body, version FROM tenantry_approval_requests WHERE tenant_id = 'pg-/,
      );
      expect(await s.effects()).toBe(1);
    });

    it('a request whose creating transaction rolls back leaves neither the request nor the soft lock', async () => {
      const s = await setup();
      const r = await inTransaction(async (c) => {
        const made = await s.ask(c);
        const seen = await c.query<{ status: string }>('SELECT status FROM assets WHERE tenant_id = $1', [
          s.tenant,
        ]);
        expect(seen.rows[0]!.status).toBe('PENDING_DELETION');
        return made;
      }, false);
      expect(await s.rows()).toBe(0);
      expect(await s.asset()).toBe('ACTIVE');
      expect(await settledCode(s.as(alice, (e) => e.get({ requestId: r.id })))).toBe('APPROVAL_NOT_FOUND');
      const kept = await inTransaction((c) => s.ask(c), true);
      expect([await s.rows(), await s.asset(), kept.status]).toEqual([1, 'PENDING_DELETION', 'PENDING']);
    });

    // The same, inside a transaction of each client library, passed through its @tenantry/core adapter.
    for (const kind of PG_CLIENT_KINDS) {
      it(`through ${kind.name}: the request and its soft lock commit together and roll back together`, async () => {
        const s = await setup();
        const client = kind.open(db.url(), { max: 2 });
        try {
          class Abort extends Error {}
          await expect(
            client.transaction(async (tx) => {
              await s.ask(tx);
              throw new Abort();
            }),
          ).rejects.toBeInstanceOf(Abort);
          expect([await s.rows(), await s.asset()]).toEqual([0, 'ACTIVE']);
          const kept = await client.transaction((tx) => s.ask(tx));
          expect([await s.rows(), await s.asset(), kept.status]).toEqual([1, 'PENDING_DELETION', 'PENDING']);
        } finally {
          await client.close();
        }
      });
    }

    it('the handler runs in the transaction that marks EXECUTED: effect, mark and unlock commit together', async () => {
      const s = await setup();
      const r = await s.ask();
      await s.as(alice, (e) => e.approve({ requestId: r.id }));
      expect(await s.asset()).toBe('PENDING_DELETION');
      const done = await s.as(carol, (e) => e.approve({ requestId: r.id }));
      expect(done.status).toBe('EXECUTED');
      expect([await s.effects(), await s.asset()]).toEqual([1, 'GONE']);
    });

    it('a handler that throws after writing leaves neither its write nor the EXECUTED mark; FAILED is recorded with its code', async () => {
      const s = await setup({ throwAfterWrite: true });
      const r = await s.ask();
      await s.as(alice, (e) => e.approve({ requestId: r.id }));
      const failed = await s.as(carol, (e) => e.approve({ requestId: r.id }));
      expect([failed.status, failed.lastErrorCode, failed.approvals]).toEqual([
        'FAILED',
        'DOWNSTREAM_REFUSED',
        ['alice', 'carol'],
      ]);
      expect(await s.effects()).toBe(0);
      expect(await s.asset()).toBe('ACTIVE');
      const stored = (
        await pool.query<{ execution_state: string }>(
          'SELECT execution_state FROM tenantry_approval_requests WHERE tenant_id = $1',
          [s.tenant],
        )
      ).rows;
      expect(stored).toEqual([{ execution_state: 'FAILED' }]);
    });

    it('a hook that swallows a failed statement: COMMIT answers ROLLBACK, the decision fails with APPROVAL_CONFLICT and nothing of it is stored', async () => {
      const s = await setup({ unlockSwallowsError: true });
      const r = await s.ask();
      await s.as(alice, (e) => e.approve({ requestId: r.id }));
      expect(await settledCode(s.as(carol, (e) => e.approve({ requestId: r.id })))).toBe('APPROVAL_CONFLICT');
      // Neither the handler's effect nor carol's approval nor the EXECUTED mark: the request still waits.
      expect(await s.effects()).toBe(0);
      const stored = (
        await pool.query<{ approval_state: string; execution_state: string; decided_by: string[] }>(
          'SELECT approval_state, execution_state, decided_by FROM tenantry_approval_requests WHERE tenant_id = $1',
          [s.tenant],
        )
      ).rows;
      expect(stored).toEqual([{ approval_state: 'PENDING', execution_state: 'NONE', decided_by: ['alice'] }]);
    });

    it('a handler that throws inside the caller transaction is undone by a savepoint; the caller still commits FAILED', async () => {
      const s = await setup({ throwAfterWrite: true });
      const r = await s.ask();
      await s.as(alice, (e) => e.approve({ requestId: r.id }));
      const failed = await inTransaction(
        (c) => s.as(carol, (e) => e.approve({ requestId: r.id }, { transaction: c })),
        true,
      );
      expect(failed.status).toBe('FAILED');
      expect([await s.effects(), await s.asset()]).toEqual([0, 'ACTIVE']);
    });

    it('fails closed when the audit write fails: the transition rolls back', async () => {
      let fail = false;
      const audit: AuditPort = {
        record: async () => {
          if (fail) throw new Error('audit down');
        },
      };
      const s = await setup({ audit });
      const r = await s.ask();
      fail = true;
      expect(await settledCode(s.as(alice, (e) => e.approve({ requestId: r.id })))).not.toBe('resolved');
      fail = false;
      expect((await s.as(alice, (e) => e.get({ requestId: r.id }))).approvals).toEqual([]);
    });

    it('the sweeper in the system scope releases expired locks of every tenant, in the same transaction as the EXPIRED mark', async () => {
      const s = await setup();
      await s.ask();
      s.clock.advance(60_000);
      const audit = new MemoryAuditPort();
      const out = await runAsSystem(
        { actor: { id: 'sweeper', kind: 'service' }, reason: 'sweep expired approvals' },
        audit,
        () => s.engine.sweep(),
      );
      expect(out.released).toBeGreaterThanOrEqual(1);
      expect(await s.asset()).toBe('ACTIVE');
      const state = (
        await pool.query<{ approval_state: string }>(
          'SELECT approval_state FROM tenantry_approval_requests WHERE tenant_id = $1',
          [s.tenant],
        )
      ).rows;
      expect(state).toEqual([{ approval_state: 'EXPIRED' }]);
    });

    it('names the missing migration instead of leaking a driver error', async () => {
      // A role whose sessions start with a search_path without the tables. Not the `options` startup
      // parameter: a pooler (PgBouncer) does not pass it on, and the suites also run through one.
      const role = uniqueId('bare');
      await pool.query(`CREATE ROLE ${role} LOGIN; ALTER ROLE ${role} SET search_path = nowhere`);
      const url = new URL(db.url());
      url.username = role;
      const bare = new pg.Pool({ connectionString: url.toString(), max: 1, pipeline });
      try {
        const engine = createApprovalEngine({
          store: new PostgresApprovalStore({ pool: bare }),
          audit: new MemoryAuditPort(),
        });
        const code = await settledCode(runAsTenant({ tenantId: 'x', actor: alice }, () => engine.list()));
        expect(code).toBe('APPROVAL_NOT_MIGRATED');
      } finally {
        await bare.end();
        await pool.query(`DROP ROLE ${role}`);
      }
    });

    it('refuses ids no store keeps exactly, and answers any other refusal of the database with a typed error', async () => {
      const s = await setup();
      // PostgreSQL refuses NUL in text (a raw driver error before); a lone surrogate reaches it as
      // U+FFFD, so two different ids would share one pending key.
      for (const id of ['a\u0000b', 'x\ud800', 'x\udbff']) {
        const code = await settledCode(
          s.as(maker, (e) =>
            e.request({ action: 'asset.delete', resource: { type: 'asset', id }, justification: 'j' }),
          ),
        );
        expect([JSON.stringify(id), code]).toEqual([JSON.stringify(id), 'VALIDATION_FAILED']);
      }
      expect(await s.rows()).toBe(0);
      expect(
        await settledCode(
          (async () =>
            runAsTenant(
              { tenantId: s.tenant, actor: { id: 'mal\u0000lory', roles: ['MANAGER'] } },
              async () => 1,
            ))(),
        ),
      ).toBe('VALIDATION_FAILED');
      // A refusal the store does not name (here a CHECK constraint of the deployment's own copy of
      // the table): APPROVAL_STORE_FAILED with the SQLSTATE, the driver's error as its cause.
      const role = uniqueId('strict');
      await pool.query(`CREATE ROLE ${role} LOGIN; CREATE SCHEMA ${role} AUTHORIZATION ${role};
        CREATE TABLE ${role}.tenantry_approval_requests (LIKE public.tenantry_approval_requests INCLUDING ALL);
        ALTER TABLE ${role}.tenantry_approval_requests ADD CHECK (length(resource_id) < 3);
        CREATE TABLE ${role}.tenantry_approval_policies (LIKE public.tenantry_approval_policies INCLUDING ALL);
        GRANT ALL ON ALL TABLES IN SCHEMA ${role} TO ${role};
        ALTER ROLE ${role} SET search_path = ${role}`);
      const url = new URL(db.url());
      url.username = role;
      const strict = new pg.Pool({ connectionString: url.toString(), max: 1, pipeline });
      try {
        const engine = createApprovalEngine({
          store: new PostgresApprovalStore({ pool: strict }),
          audit: new MemoryAuditPort(),
        });
        engine.registerResource('asset', { lock: () => undefined, unlock: () => undefined });
        engine.registerAction('asset.delete', { execute: () => undefined });
        await runAsTenant({ tenantId: s.tenant, actor: admin }, () =>
          engine.setPolicies({
            policies: [{ action: 'asset.delete', approvalsRequired: 1, approverRoles: ['MANAGER'] }],
          }),
        );
        const error = await runAsTenant({ tenantId: s.tenant, actor: maker }, () =>
          engine.request({
            action: 'asset.delete',
            resource: { type: 'asset', id: 'long' },
            justification: 'j',
          }),
        ).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ code: 'APPROVAL_STORE_FAILED', details: { sqlState: '23514' } });
        expect((error as Error).cause).toMatchObject({ code: '23514' });
      } finally {
        await strict.end();
        await pool.query(`DROP SCHEMA ${role} CASCADE; DROP ROLE ${role}`);
      }
    });
  },
);
