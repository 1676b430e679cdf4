import pg from 'pg';
import { MemoryAuditPort, runAsTenant } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import { createApprovalEngine } from '@tenantry/approvals';
import { PostgresApprovalStore, approvalsMigrations } from '@tenantry/approvals/postgres';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
await runMigrations(pool, approvalsMigrations); // or migrations/001_tenantry_approvals.sql

const engine = createApprovalEngine({
  store: new PostgresApprovalStore({ pool }),
  audit: new MemoryAuditPort(),
});
const tx = (t: unknown) => t as pg.PoolClient; // handlers get the transaction the engine runs in
engine.registerResource('asset', {
  lock: async ({ transaction, tenantId, resource }) => {
    await tx(transaction).query(
      "UPDATE assets SET status = 'PENDING_DELETION' WHERE tenant_id = $1 AND id = $2",
      [tenantId, resource.id],
    );
  },
  unlock: async ({ transaction, tenantId, resource }) => {
    await tx(transaction).query(
      "UPDATE assets SET status = 'ACTIVE' WHERE tenant_id = $1 AND id = $2 AND status = 'PENDING_DELETION'",
      [tenantId, resource.id],
    );
  },
});
engine.registerAction('asset.delete', {
  // Runs in the transaction that marks the request EXECUTED: the DELETE and the mark commit together.
  execute: async ({ transaction, tenantId, request }) => {
    await tx(transaction).query('DELETE FROM assets WHERE tenant_id = $1 AND id = $2', [
      tenantId,
      request.resource.id,
    ]);
  },
});

// Ask inside your own transaction: the request row and the PENDING_DELETION mark commit or roll back together.
const client = await pool.connect();
try {
  await client.query('BEGIN');
  await runAsTenant({ tenantId: 'acme', actor: { id: 'mo', roles: ['OPERATOR'] } }, () =>
    engine.request(
      { action: 'asset.delete', resource: { type: 'asset', id: '42' }, justification: 'duplicate upload' },
      { transaction: client },
    ),
  );
  await client.query('COMMIT');
} catch (error) {
  await client.query('ROLLBACK'); // neither the request nor the soft lock exists
  throw error; // APPROVAL_DUPLICATE_PENDING names the pending request in error.details.pendingRequestId
} finally {
  client.release();
}
