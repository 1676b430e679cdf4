// Invariant T1 against the vault's own public API: every operation that takes a tenant resolves it
// with core's resolveTenantId (inside tenant A only A; outside any context nothing; inside runAsSystem any).
import { MemoryAuditPort, currentTenantContext, runAsSystem } from '@tenantry/core';
import { settledCode, tenantIsolationConformance } from '@tenantry/core/testing';
import { describe, expect, it } from 'vitest';
import { MemoryTable, asTenant, memoryVault } from './helpers.js';

const notes = new MemoryTable('notes');
const { vault } = memoryVault([notes.module()]);
const TENANTS = ['iso-a', 'iso-b'] as const;
for (const t of TENANTS) notes.fill(t, 3);
const snapshots = new Map<string, string>();
await runAsSystem(
  { actor: { id: 'ops', kind: 'service' }, reason: 'fixture' },
  new MemoryAuditPort(),
  async () => {
    for (const t of TENANTS) snapshots.set(t, (await vault.snapshot({ tenantId: t })).snapshotId);
  },
);
/** The snapshot of the tenant named, or of the context's tenant (so the id always belongs to the tenant acted for). */
const idFor = (tenantId: string | undefined): string =>
  snapshots.get(tenantId ?? currentTenantContext()?.tenantId ?? 'iso-a') as string;

describe('@tenantry/vault', () => {
  tenantIsolationConformance(
    () => ({
      tenants: TENANTS,
      operations: [
        { name: 'vault.snapshot', call: (tenantId) => vault.snapshot({ tenantId }) },
        { name: 'vault.verify', call: (tenantId) => vault.verify({ tenantId, snapshotId: idFor(tenantId) }) },
        {
          name: 'vault.restore',
          call: (tenantId) => vault.restore({ tenantId, snapshotId: idFor(tenantId) }),
        },
        {
          name: 'vault.restore (before)',
          call: (tenantId) => vault.restore({ tenantId, before: new Date(Date.now() + 60_000) }),
        },
        { name: 'vault.list', call: (tenantId) => vault.list({ tenantId }) },
        { name: 'vault.prune', call: (tenantId) => vault.prune({ tenantId, newerThanMs: 86_400_000 }) },
        { name: 'vault.exportData', call: (tenantId) => vault.exportData({ tenantId }) },
      ],
    }),
    { describe, it, expect },
  );
});

describe("a tenant never reaches another tenant's snapshots", () => {
  it('naming B inside A is refused before any storage access; B’s id inside A is not found', async () => {
    await asTenant('iso-a', async () => {
      expect(await settledCode(vault.restore({ tenantId: 'iso-b', snapshotId: idFor('iso-b') }))).toBe(
        'TENANT_CONTEXT_CONFLICT',
      );
      expect(await settledCode(vault.restore({ snapshotId: idFor('iso-b') }))).toBe(
        'VAULT_SNAPSHOT_NOT_FOUND',
      );
      expect((await vault.list()).every((r) => r.tenantId === 'iso-a')).toBe(true);
    });
  });
});
