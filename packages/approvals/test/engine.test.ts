import { ManualClock, MemoryAuditPort, runAsTenant } from '@tenantry/core';
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

describe('execution claim on stores without transactions (at-least-once call, at-most-once mark)', () => {
  it('a stalled execution keeps its lease; after the lease another caller reclaims it; only one EXECUTED mark', async () => {
    const clock = new ManualClock('2030-01-01T00:00:00Z');
    const audit = new MemoryAuditPort();
    const engine = createApprovalEngine({ store: new MemoryApprovalStore(), audit, clock, leaseMs: 10_000 });
    const calls: string[] = [];
    let releaseFirst: () => void = () => undefined;
    engine.registerResource('asset', { lock: () => undefined, unlock: () => undefined });
    engine.registerAction('asset.delete', {
      execute: ({ idempotencyKey }) => {
        calls.push(idempotencyKey);
        if (calls.length === 1) return new Promise<void>((r) => (releaseFirst = r));
      },
    });
    const as = <R>(id: string, roles: string[], fn: () => Promise<R>) =>
      runAsTenant({ tenantId: 't', actor: { id, roles } }, fn);
    await as('ad', ['TENANT_ADMIN'], () =>
      engine.setPolicies({ policies: [{ action: 'asset.delete', approverRoles: ['MANAGER'] }] }),
    );
    const r = await as('mo', ['OPERATOR'], () =>
      engine.request({ action: 'asset.delete', resource: { type: 'asset', id: '1' }, justification: 'x' }),
    );
    const stalled = as('al', ['MANAGER'], () => engine.approve({ requestId: r.id }));
    await new Promise((res) => setTimeout(res, 5));
    const running = await as('al', ['MANAGER'], () => engine.get({ requestId: r.id }));
    expect([running.approvalState, running.executionState]).toEqual(['APPROVED', 'RUNNING']);
    expect(await settledCode(as('mo', ['OPERATOR'], () => engine.execute({ requestId: r.id })))).toBe(
      'APPROVAL_EXECUTION_IN_PROGRESS',
    );
    clock.advance(10_000);
    const reclaimed = await as('mo', ['OPERATOR'], () => engine.execute({ requestId: r.id }));
    expect([reclaimed.status, reclaimed.attempts]).toEqual(['EXECUTED', 2]);
    releaseFirst();
    const late = await stalled;
    expect(late.status).toBe('EXECUTED');
    expect(calls).toEqual([r.id, r.id]);
    const final = await as('al', ['MANAGER'], () => engine.get({ requestId: r.id }));
    expect(final.history.filter((h) => h.type === 'executed')).toHaveLength(1);
    expect(audit.withAction('approval.executed')).toHaveLength(1);
  });

  it('records the impersonator of a decision in the history and in the audit event', async () => {
    const audit = new MemoryAuditPort();
    const engine = createApprovalEngine({ store: new MemoryApprovalStore(), audit });
    engine.registerResource('asset', { lock: () => undefined, unlock: () => undefined });
    engine.registerAction('asset.delete', { execute: () => undefined });
    await runAsTenant({ tenantId: 't', actor: { id: 'ad', roles: ['TENANT_ADMIN'] } }, () =>
      engine.setPolicies({
        policies: [{ action: 'asset.delete', approvalsRequired: 2, approverRoles: ['MANAGER'] }],
      }),
    );
    const r = await runAsTenant({ tenantId: 't', actor: { id: 'mo', roles: ['OPERATOR'] } }, () =>
      engine.request({ action: 'asset.delete', resource: { type: 'asset', id: '1' }, justification: 'x' }),
    );
    const after = await runAsTenant(
      {
        tenantId: 't',
        actor: { id: 'al', roles: ['MANAGER'] },
        impersonator: { id: 'support-7', roles: ['SUPER_ADMIN'] },
      },
      () => engine.approve({ requestId: r.id }),
    );
    expect(after.history[1]).toMatchObject({
      type: 'approved',
      actorId: 'al',
      impersonatorId: 'support-7',
      roles: ['MANAGER'],
    });
    const [event] = audit.withAction('approval.approved');
    expect([
      event?.actor.id,
      event?.impersonator?.id,
      event?.metadata?.requestId,
      event?.metadata?.makerId,
    ]).toEqual(['al', 'support-7', r.id, 'mo']);
  });
});

describe('policy cache (stores with policyVersionCheck)', () => {
  /** The memory store, counting the policy reads the engine makes (the cache is what is under test). */
  class CountingStore extends MemoryApprovalStore {
    reads: string[] = [];
    override latestPolicySet(tenantId: string) {
      this.reads.push(tenantId);
      return super.latestPolicySet(tenantId);
    }
  }
  const setup = async (policyCacheSize?: number) => {
    const store = new CountingStore();
    const engine = createApprovalEngine({
      store,
      audit: new MemoryAuditPort(),
      ...(policyCacheSize === undefined ? {} : { policyCacheSize }),
    });
    engine.registerAction('asset.delete', { execute: () => undefined });
    engine.registerResource('asset', { lock: () => undefined, unlock: () => undefined });
    const admin = { id: 'ad', roles: ['TENANT_ADMIN'] };
    for (const tenantId of ['a', 'b', 'c']) {
      await runAsTenant({ tenantId, actor: admin }, () =>
        engine.setPolicies({ policies: [{ action: 'asset.delete', approverRoles: ['MANAGER'] }] }),
      );
    }
    let n = 0;
    const ask = (tenantId: string) =>
      runAsTenant({ tenantId, actor }, () =>
        engine.request({
          action: 'asset.delete',
          resource: { type: 'asset', id: `r${++n}` },
          justification: 'x',
        }),
      );
    store.reads = [];
    return { store, engine, ask };
  };

  it('holds at most policyCacheSize tenants, least recently used out first', async () => {
    const { store, ask } = await setup(2);
    // setPolicies remembered a, b, c in turn: with room for 2, a fell out.
    await ask('c');
    await ask('b');
    expect(store.reads).toEqual([]);
    await ask('a'); // read again; evicts c (b was used after c)
    await ask('b');
    await ask('c'); // read again
    expect(store.reads).toEqual(['a', 'c']);
    for (const r of await Promise.all(['a', 'b', 'c'].map(ask))) expect(r.rules.version).toBe(1);
  });

  it('policyCacheSize 0 reads the policies on every request', async () => {
    const { store, ask } = await setup(0);
    await ask('a');
    await ask('a');
    expect(store.reads).toEqual(['a', 'a']);
  });

  it('a changed policy set is read again (and only then); callers cannot alter the cached one', async () => {
    const { store, engine, ask } = await setup();
    const first = await ask('a');
    const roles = first.rules.policy!.approverRoles as string[];
    expect(() => roles.push('USER')).toThrow(TypeError);
    expect((await ask('a')).rules.policy!.approverRoles).toEqual(['MANAGER']);
    // Another engine on the same store changes the policy: this engine's cached version 1 is stale.
    const other = createApprovalEngine({ store, audit: new MemoryAuditPort() });
    await runAsTenant({ tenantId: 'a', actor: { id: 'ad', roles: ['TENANT_ADMIN'] } }, () =>
      other.setPolicies({ policies: [{ action: 'asset.delete', approverRoles: ['AUDITOR'] }] }),
    );
    store.reads = [];
    const second = await ask('a');
    expect(second.rules).toMatchObject({ version: 2, policy: { approverRoles: ['AUDITOR'] } });
    expect(store.reads).toEqual(['a']);
    await ask('a');
    expect(store.reads).toEqual(['a']);
    expect((await runAsTenant({ tenantId: 'a', actor }, () => engine.getPolicies())).version).toBe(2);
  });
});

describe('policy cache, tenants apart (memory store, two engines)', () => {
  it("a change of one tenant's policies by another engine never serves another tenant's cached set", async () => {
    const store = new MemoryApprovalStore();
    const engines = [0, 1].map(() => {
      const e = createApprovalEngine({ store, audit: new MemoryAuditPort() });
      e.registerAction('asset.delete', { execute: () => undefined });
      e.registerResource('asset', { lock: () => undefined, unlock: () => undefined });
      return e;
    });
    const [one, two] = engines as [
      ReturnType<typeof createApprovalEngine>,
      ReturnType<typeof createApprovalEngine>,
    ];
    const admin = { id: 'ad', roles: ['TENANT_ADMIN'] };
    const set = (e: typeof one, tenantId: string, roles: string[]) =>
      runAsTenant({ tenantId, actor: admin }, () =>
        e.setPolicies({ policies: [{ action: 'asset.delete', approverRoles: roles }] }),
      );
    let n = 0;
    const ask = (tenantId: string) =>
      runAsTenant({ tenantId, actor }, () =>
        one.request({
          action: 'asset.delete',
          resource: { type: 'asset', id: `r${++n}` },
          justification: 'x',
        }),
      );
    await set(one, 'a', ['MANAGER']);
    await set(one, 'b', ['AUDITOR']);
    await set(one, 'b', ['CFO']); // b at version 2, a at version 1: equal versions cannot hide a mix-up below
    expect((await ask('a')).rules).toMatchObject({ version: 1, policy: { approverRoles: ['MANAGER'] } });
    expect((await ask('b')).rules).toMatchObject({ version: 2, policy: { approverRoles: ['CFO'] } });
    await set(two, 'a', ['AUDITOR']); // a now at version 2, like b, through the other engine
    expect((await ask('a')).rules).toMatchObject({ version: 2, policy: { approverRoles: ['AUDITOR'] } });
    expect((await ask('b')).rules).toMatchObject({ version: 2, policy: { approverRoles: ['CFO'] } });
    await set(two, 'b', ['TREASURER']);
    expect((await ask('b')).rules).toMatchObject({ version: 3, policy: { approverRoles: ['TREASURER'] } });
    expect((await ask('a')).rules).toMatchObject({ version: 2, policy: { approverRoles: ['AUDITOR'] } });
  });
});
