import { MemoryAuditPort, uuidv7 } from '@tenantry/core';
import { type TenantScopedOperation, tenantIsolationConformance } from '@tenantry/core/testing';
import { describe, expect, it } from 'vitest';
import { createApprovalEngine } from '../src/index.js';
import { MemoryApprovalStore } from '../src/memory.js';

// T1 against every public API of the engine that acts for a tenant.
const engine = createApprovalEngine({ store: new MemoryApprovalStore(), audit: new MemoryAuditPort() });
engine.registerAction('asset.delete', { execute: () => undefined });
engine.registerResource('asset', { lock: () => undefined, unlock: () => undefined });

const id = () => uuidv7();
const operations: TenantScopedOperation[] = [
  { name: 'setPolicies', call: (tenantId) => engine.setPolicies({ tenantId, policies: [] }) },
  { name: 'getPolicies', call: (tenantId) => engine.getPolicies({ tenantId }) },
  {
    name: 'request',
    call: (tenantId) =>
      engine.request({
        tenantId,
        action: 'asset.delete',
        resource: { type: 'asset', id: id() },
        justification: 'x',
      }),
  },
  { name: 'approve', call: (tenantId) => engine.approve({ tenantId, requestId: id() }) },
  { name: 'reject', call: (tenantId) => engine.reject({ tenantId, requestId: id() }) },
  { name: 'cancel', call: (tenantId) => engine.cancel({ tenantId, requestId: id() }) },
  { name: 'bypass', call: (tenantId) => engine.bypass({ tenantId, requestId: id(), reason: 'outage' }) },
  { name: 'execute', call: (tenantId) => engine.execute({ tenantId, requestId: id() }) },
  { name: 'get', call: (tenantId) => engine.get({ tenantId, requestId: id() }) },
  { name: 'list', call: (tenantId) => engine.list({ tenantId }) },
  { name: 'inbox', call: (tenantId) => engine.inbox({ tenantId }) },
  { name: 'sweep', call: (tenantId) => engine.sweep({ tenantId }) },
];

describe('approvals', () => {
  tenantIsolationConformance(() => ({ tenants: ['iso-a', 'iso-b'], operations }), { describe, it, expect });
});
