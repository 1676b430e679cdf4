import { MemoryAuditPort, runAsTenant } from '@tenantry/core';
import { settledCode } from '@tenantry/core/testing';
import { describe, expect, it } from 'vitest';
import { ApprovalErrorCodes, createApprovalEngine, matchPolicy, PolicySetInputSchema } from '../src/index.js';
import { MemoryApprovalStore } from '../src/memory.js';

const actor = { id: 'mo', roles: ['OPERATOR'] };

describe('engine', () => {
  it('picks the exact action first, then the longest pattern', () => {
    const { policies } = PolicySetInputSchema.parse({
      policies: [
        { action: '*', approverRoles: ['MANAGER'] },
        { action: 'asset.*', approverRoles: ['MANAGER'], approvalsRequired: 2 },
        { action: 'asset.delete', approverRoles: ['MANAGER'], approvalsRequired: 3 },
      ],
    });
    expect(matchPolicy(policies, 'asset.delete')?.approvalsRequired).toBe(3);
    expect(matchPolicy(policies, 'asset.rename')?.approvalsRequired).toBe(2);
    expect(matchPolicy(policies, 'invoice.void')?.action).toBe('*');
    expect(matchPolicy([], 'invoice.void')).toBeUndefined();
  });

  it('refuses a caller transaction on a store that cannot join one (capability flag)', async () => {
    const engine = createApprovalEngine({ store: new MemoryApprovalStore(), audit: new MemoryAuditPort() });
    engine.registerAction('asset.delete', { execute: () => undefined });
    const code = await settledCode(
      runAsTenant({ tenantId: 'a', actor }, () =>
        engine.request(
          { action: 'asset.delete', resource: { type: 'asset', id: '1' }, justification: 'x' },
          { transaction: {} },
        ),
      ),
    );
    expect(code).toBe('VALIDATION_FAILED');
  });

  it('refuses actions without a handler, and resource types without hooks when a policy applies', async () => {
    const engine = createApprovalEngine({ store: new MemoryApprovalStore(), audit: new MemoryAuditPort() });
    const ask = () =>
      runAsTenant({ tenantId: 'a', actor }, () =>
        engine.request({ action: 'asset.delete', resource: { type: 'asset', id: '1' }, justification: 'x' }),
      );
    expect(await settledCode(ask())).toBe('APPROVAL_HANDLER_MISSING');
    engine.registerAction('asset.delete', { execute: () => undefined });
    await runAsTenant({ tenantId: 'a', actor: { id: 'ad', roles: ['TENANT_ADMIN'] } }, () =>
      engine.setPolicies({ policies: [{ action: 'asset.*', approverRoles: ['MANAGER'] }] }),
    );
    expect(await settledCode(ask())).toBe('APPROVAL_HANDLER_MISSING');
  });

  it('declares every code with the APPROVAL_ prefix and an HTTP status', () => {
    for (const [code, spec] of Object.entries(ApprovalErrorCodes)) {
      expect(code.startsWith('APPROVAL_')).toBe(true);
      expect(spec.status).toBeGreaterThanOrEqual(400);
    }
  });
});
