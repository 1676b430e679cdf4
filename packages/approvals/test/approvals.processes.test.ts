import { fileURLToPath } from 'node:url';
import { MemoryAuditPort, runAsTenant } from '@tenantry/core';
import { hasBackend, runWorkers, skipLabel } from '@tenantry/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApprovalEngine } from '../src/index.js';
import { PostgresApprovalStore } from '../src/postgres.js';
import { migrated, usePostgres } from './helpers.js';

const db = usePostgres();
const WORKER = fileURLToPath(new URL('./workers/approve-worker.ts', import.meta.url));
const WORKERS = 3;
const REQUESTS = 50;

describe.skipIf(!hasBackend('postgres'))(
  `exactly one execution across OS processes (P2, P5)${skipLabel('postgres')}`,
  () => {
    beforeAll(async () => {
      await migrated(db.pool());
      await db
        .pool()
        .query(`CREATE TABLE race_effects (tenant_id text NOT NULL, request_id uuid NOT NULL, worker int NOT NULL);
      CREATE TABLE race_barrier (worker int)`);
    });
    afterAll(() => db.pool().end());

    it(`${REQUESTS} requests needing 2 approvals, approved at the same instant from ${WORKERS} processes: each handler ran once`, async () => {
      const pool = db.pool();
      const tenant = 'race';
      const engine = createApprovalEngine({
        store: new PostgresApprovalStore({ pool }),
        audit: new MemoryAuditPort(),
      });
      engine.registerResource('asset', { lock: () => undefined, unlock: () => undefined });
      engine.registerAction('asset.delete', { execute: () => undefined });
      const as = <R>(actor: { id: string; roles: string[] }, fn: () => Promise<R>) =>
        runAsTenant({ tenantId: tenant, actor }, fn);
      await as({ id: 'admin', roles: ['TENANT_ADMIN'] }, () =>
        engine.setPolicies({
          policies: [{ action: 'asset.delete', approvalsRequired: 2, approverRoles: ['MANAGER'] }],
        }),
      );
      const ids: string[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const r = await as({ id: 'maker', roles: ['OPERATOR'] }, () =>
          engine.request({
            action: 'asset.delete',
            resource: { type: 'asset', id: `a${i}` },
            justification: 'race',
          }),
        );
        ids.push(r.id);
      }

      const result = await runWorkers({
        script: WORKER,
        workers: WORKERS,
        env: {
          RACE_PG: db.url(),
          RACE_TENANT: tenant,
          RACE_IDS: JSON.stringify(ids),
          RACE_WORKERS: String(WORKERS),
        },
        timeoutMs: 90_000,
      });
      const reports = result.messages as Array<{ index: number; startedAt: number; codes: string[] }>;
      expect(reports).toHaveLength(WORKERS);
      // Every worker started its burst within a few ms of the others (the barrier), so the approvals raced.
      const starts = reports.map((r) => r.startedAt);
      expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(500);

      // The handler's own side effect, counted in the database: exactly one row per request.
      const { rows } = await pool.query<{ request_id: string; n: string }>(
        'SELECT request_id, count(*) AS n FROM race_effects GROUP BY request_id',
      );
      expect(rows).toHaveLength(REQUESTS);
      expect(rows.every((r) => r.n === '1')).toBe(true);
      expect(new Set(rows.map((r) => r.request_id))).toEqual(new Set(ids));

      const stored = await pool.query<{ approval_state: string; execution_state: string; n: number }>(
        `SELECT approval_state, execution_state, cardinality(decided_by) AS n FROM tenantry_approval_requests WHERE tenant_id = $1`,
        [tenant],
      );
      expect(
        stored.rows.every(
          (r) => r.approval_state === 'APPROVED' && r.execution_state === 'EXECUTED' && r.n === 2,
        ),
      ).toBe(true);
      // Per request: two approvals landed, the third was refused because the request was no longer pending.
      for (let i = 0; i < REQUESTS; i++) {
        const outcomes = reports.map((r) => r.codes[i]).sort();
        expect(outcomes.filter((c) => c === 'PENDING' || c === 'EXECUTED')).toHaveLength(2);
        expect(outcomes.filter((c) => c === 'EXECUTED')).toHaveLength(1);
        expect(outcomes.filter((c) => c === 'APPROVAL_INVALID_STATE')).toHaveLength(1);
      }
    }, 120_000);
  },
);
