// A race worker: approves every request at once, as its own approver, after a barrier in PostgreSQL so
// that all workers send their approvals at the same instant. The handler's only effect is a row in
// race_effects written through the transaction it is given (no unique key: duplicates would show).
import { MemoryAuditPort, runAsTenant } from '@tenantry/core';
import { reportToParent, workerIdentity } from '@tenantry/testkit/child';
import pg from 'pg';
import { createApprovalEngine } from '../../src/index.js';
import { PostgresApprovalStore } from '../../src/postgres.js';

const { index } = workerIdentity();
const tenant = process.env.RACE_TENANT ?? '';
const ids = JSON.parse(process.env.RACE_IDS ?? '[]') as string[];
const workers = Number(process.env.RACE_WORKERS);
const pool = new pg.Pool({ connectionString: process.env.RACE_PG, max: 10 });
pool.on('error', () => undefined);

const engine = createApprovalEngine({
  store: new PostgresApprovalStore({ pool }),
  audit: new MemoryAuditPort(),
});
engine.registerResource('asset', { lock: () => undefined, unlock: () => undefined });
engine.registerAction('asset.delete', {
  execute: async ({ transaction, tenantId, request }) => {
    await (transaction as pg.PoolClient).query('INSERT INTO race_effects VALUES ($1, $2, $3)', [
      tenantId,
      request.id,
      index,
    ]);
  },
});

// Warm the pool so the barrier releases requests, not connection set-up.
await Promise.all(Array.from({ length: 10 }, () => pool.query('SELECT 1')));
await pool.query('INSERT INTO race_barrier VALUES ($1)', [index]);
for (;;) {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM race_barrier');
  if (Number(rows[0]!.n) >= workers) break;
  await new Promise((r) => setTimeout(r, 2));
}
const startedAt = Date.now();
const codes = await runAsTenant(
  { tenantId: tenant, actor: { id: `approver-${index}`, roles: ['MANAGER'] } },
  () =>
    Promise.all(
      ids.map((requestId) =>
        engine.approve({ requestId }).then(
          (r) => r.status,
          (e: { code?: string }) => e.code ?? 'UNTYPED',
        ),
      ),
    ),
);
reportToParent({ index, startedAt, codes });
await pool.end();
