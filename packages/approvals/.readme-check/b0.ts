import { MemoryAuditPort, runAsTenant } from '@tenantry/core';
import { createApprovalEngine } from '@tenantry/approvals';
import { MemoryApprovalStore } from '@tenantry/approvals/memory';

const assets = new Map([['42', { status: 'ACTIVE' }]]);
const engine = createApprovalEngine({ store: new MemoryApprovalStore(), audit: new MemoryAuditPort() });

// The soft lock of a resource type, and the code that runs an approved action.
engine.registerResource('asset', {
  lock: ({ resource }) => void assets.set(resource.id, { status: 'PENDING_DELETION' }),
  unlock: ({ resource }) => {
    if (assets.get(resource.id)?.status === 'PENDING_DELETION') assets.set(resource.id, { status: 'ACTIVE' });
  },
});
engine.registerAction('asset.delete', {
  execute: ({ request }) => void assets.delete(request.resource.id),
});

const tenantId = 'acme';
const as = <R>(id: string, roles: string[], fn: () => Promise<R>) =>
  runAsTenant({ tenantId, actor: { id, roles } }, fn);

// A tenant admin decides: deleting an asset needs 2 managers, within 3 days.
await as('ada', ['TENANT_ADMIN'], () =>
  engine.setPolicies({
    policies: [
      { action: 'asset.delete', approvalsRequired: 2, approverRoles: ['MANAGER'], ttlMs: 3 * 86_400_000 },
    ],
  }),
);

const request = await as('mo', ['OPERATOR'], () =>
  engine.request({
    action: 'asset.delete',
    resource: { type: 'asset', id: '42' },
    justification: 'duplicate upload',
  }),
);
// request.status === 'PENDING', assets.get('42').status === 'PENDING_DELETION'

await as('alice', ['MANAGER'], () => engine.approve({ requestId: request.id, comment: 'checked' }));
const done = await as('bob', ['MANAGER'], () => engine.approve({ requestId: request.id }));
// done.status === 'EXECUTED', assets.has('42') === false
console.log(
  done.status,
  done.history.map((h) => h.type),
); // EXECUTED [ 'requested', 'approved', 'approved', 'executed' ]
