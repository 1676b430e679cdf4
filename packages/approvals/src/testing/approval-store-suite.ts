import { randomBytes } from 'node:crypto';
import {
  type ActorInput,
  ManualClock,
  MemoryAuditPort,
  runAsSystem,
  runAsTenant,
  uuidv7,
} from '@tenantry/core';
import { type SuiteApi, settledCode } from '@tenantry/core/testing';
import type { ApprovalStore } from '../approval-store.js';
import type { ApprovalEngine } from '../approval-engine.js';
import { createApprovalEngine } from '../engine.js';
import type { PolicySetInput } from '../policy.js';
import type { ApprovalRequest } from '../request.js';

/** What {@link approvalStoreConformance} needs: a store (fresh or shared; the suite uses unique tenants). */
export interface ApprovalStoreHarness {
  readonly store: ApprovalStore;
}

/** A test fixture: an engine over the harness's store, with soft locks and handler effects tracked in memory. */
export interface SuiteFixture {
  readonly store: ApprovalStore;
  readonly engine: ApprovalEngine;
  readonly tenant: string;
  readonly clock: ManualClock;
  readonly audit: MemoryAuditPort;
  /** Resource id → whether it is soft-locked now. */
  readonly locks: Map<string, boolean>;
  /** Request id → how many times the handler ran to completion. */
  readonly effects: Map<string, number>;
  as<R>(actor: ActorInput, fn: (engine: ApprovalEngine) => Promise<R>, impersonator?: ActorInput): Promise<R>;
}

const T0 = '2030-01-01T00:00:00Z';
export const suiteActors = {
  maker: { id: 'maker', roles: ['OPERATOR'] },
  admin: { id: 'admin', roles: ['TENANT_ADMIN'] },
  alice: { id: 'alice', roles: ['MANAGER'] },
  bob: { id: 'bob', roles: ['MANAGER', 'TENANT_ADMIN'] },
  carol: { id: 'carol', roles: ['MANAGER'] },
  eve: { id: 'eve', roles: ['USER'] },
  root: { id: 'root', roles: ['SUPER_ADMIN'] },
} as const satisfies Record<string, ActorInput>;

/** Build a fixture with `policies` set by a tenant admin. `fail` makes the handler throw for payloads `{ fail: true }`. */
export async function suiteFixture(store: ApprovalStore, policies: PolicySetInput): Promise<SuiteFixture> {
  const tenant = `t-${randomBytes(6).toString('hex')}`;
  const clock = new ManualClock(T0);
  const audit = new MemoryAuditPort();
  const locks = new Map<string, boolean>();
  const effects = new Map<string, number>();
  const engine = createApprovalEngine({ store, audit, clock, leaseMs: 30_000 });
  engine.registerResource('asset', {
    lock: ({ resource }) => void locks.set(resource.id, true),
    unlock: ({ resource }) => void locks.set(resource.id, false),
  });
  for (const action of ['asset.delete', 'asset.export', 'asset.rename']) {
    engine.registerAction(action, {
      execute: async ({ request, payload }) => {
        await new Promise((r) => setTimeout(r, 1));
        if ((payload as { fail?: boolean } | null)?.fail) {
          throw Object.assign(new Error('secret detail that must not be stored'), { code: 'DISK_FULL' });
        }
        effects.set(request.id, (effects.get(request.id) ?? 0) + 1);
      },
    });
  }
  const as = <R>(actor: ActorInput, fn: (e: ApprovalEngine) => Promise<R>, impersonator?: ActorInput) =>
    runAsTenant({ tenantId: tenant, actor, ...(impersonator ? { impersonator } : {}) }, () => fn(engine));
  await as(suiteActors.admin, (e) => e.setPolicies(policies));
  return { store, engine, tenant, clock, audit, locks, effects, as };
}

const twoManagers: PolicySetInput = {
  policies: [
    {
      action: 'asset.delete',
      approvalsRequired: 2,
      approverRoles: ['MANAGER', 'TENANT_ADMIN'],
      ttlMs: 3_600_000,
    },
    {
      action: 'asset.*',
      approvalsRequired: 1,
      approverRoles: ['MANAGER'],
      execution: 'manual',
      retryFailed: true,
    },
  ],
  bypass: { enabled: true, roles: ['SUPER_ADMIN'] },
};

/**
 * The conformance suite of approval stores, run through the engine: every rule of P1–P4 and P6 (and the
 * at-most-once mark of P5) on the store under test. A custom store proves itself with it.
 * @example
 * import { describe, expect, it } from 'vitest';
 * approvalStoreConformance(() => ({ store: new MemoryApprovalStore() }), { describe, it, expect });
 */
export function approvalStoreConformance(harness: () => ApprovalStoreHarness, api: SuiteApi): void {
  const { describe, it, expect } = api;
  const fixture = (p: PolicySetInput = twoManagers) => suiteFixture(harness().store, p);
  const ask = (
    f: SuiteFixture,
    id = uuidv7(),
    action = 'asset.delete',
    payload: Record<string, unknown> = {},
  ) =>
    f.as(suiteActors.maker, (e) =>
      e.request({ action, resource: { type: 'asset', id }, justification: 'cleanup', payload }),
    );

  describe('approval store conformance', () => {
    it('stores, reads back and compare-and-sets a request by version; another tenant never sees it', async () => {
      const f = await fixture();
      const store = f.store;
      const r = await ask(f);
      const stored = (await store.get(f.tenant, r.id))!;
      expect(stored.version).toBe(1);
      expect(await store.get('other-tenant', r.id)).toBeNull();
      const next: ApprovalRequest = { ...stored, updatedAt: new Date().toISOString(), version: 2 };
      const results = await store.unitOfWork(async (tx) => [
        await tx.update(next, 1),
        await tx.update({ ...next, version: 3 }, 1),
      ]);
      expect(results).toEqual([true, false]);
      expect((await store.get(f.tenant, r.id))!.version).toBe(2);
      expect(
        await store.unitOfWork((tx) => tx.update({ ...next, tenantId: 'other-tenant', version: 3 }, 2)),
      ).toBe(false);
    });

    it('refuses a second pending request for the same action and resource, naming the pending one', async () => {
      const f = await fixture();
      const first = await ask(f, 'r1');
      const err = await f
        .as(suiteActors.alice, (e) =>
          e.request({
            action: 'asset.delete',
            resource: { type: 'asset', id: 'r1' },
            justification: 'again',
          }),
        )
        .catch((x: unknown) => x);
      expect((err as { code?: string }).code).toBe('APPROVAL_DUPLICATE_PENDING');
      expect((err as { details: { pendingRequestId: string } }).details.pendingRequestId).toBe(first.id);
      expect((await ask(f, 'r1', 'asset.export')).status).toBe('PENDING');
      const all = await Promise.all(Array.from({ length: 8 }, () => settledCode(ask(f, 'r2'))));
      expect(all.filter((c) => c === 'resolved')).toHaveLength(1);
      expect(all.filter((c) => c === 'APPROVAL_DUPLICATE_PENDING')).toHaveLength(7);
    });

    it('locks on request; N-of-M approves only at N distinct eligible approvers, then executes once and unlocks', async () => {
      const f = await fixture();
      const r = await ask(f, 'a1');
      expect(f.locks.get('a1')).toBe(true);
      const one = await f.as(suiteActors.alice, (e) => e.approve({ requestId: r.id, comment: 'ok' }));
      expect(one.status).toBe('PENDING');
      expect(f.effects.get(r.id)).toBeUndefined();
      const two = await f.as(suiteActors.carol, (e) => e.approve({ requestId: r.id }));
      expect(two.status).toBe('EXECUTED');
      expect(two.approvals).toEqual(['alice', 'carol']);
      expect(f.effects.get(r.id)).toBe(1);
      expect(f.locks.get('a1')).toBe(false);
      const decisions = two.history.filter((h) => h.type === 'approved');
      expect(decisions.map((d) => [d.actorId, d.roles])).toEqual([
        ['alice', ['MANAGER']],
        ['carol', ['MANAGER']],
      ]);
      expect(decisions[0]!.comment).toBe('ok');
    });

    it('refuses self-approval, a second vote by the same person, and ineligible approvers', async () => {
      const f = await fixture();
      const r = await ask(f);
      expect(await settledCode(f.as(suiteActors.maker, (e) => e.approve({ requestId: r.id })))).toBe(
        'APPROVAL_SELF_APPROVAL',
      );
      expect(
        await settledCode(f.as(suiteActors.alice, (e) => e.approve({ requestId: r.id }), suiteActors.maker)),
      ).toBe('APPROVAL_SELF_APPROVAL');
      expect(await settledCode(f.as(suiteActors.eve, (e) => e.approve({ requestId: r.id })))).toBe(
        'APPROVAL_NOT_ELIGIBLE',
      );
      await f.as(suiteActors.alice, (e) => e.approve({ requestId: r.id }));
      expect(await settledCode(f.as(suiteActors.alice, (e) => e.approve({ requestId: r.id })))).toBe(
        'APPROVAL_ALREADY_DECIDED',
      );
      expect(await settledCode(f.as(suiteActors.alice, (e) => e.reject({ requestId: r.id })))).toBe(
        'APPROVAL_ALREADY_DECIDED',
      );
      expect((await f.as(suiteActors.alice, (e) => e.get({ requestId: r.id }))).status).toBe('PENDING');
    });

    it('counts a person holding two eligible roles once', async () => {
      const f = await fixture();
      const r = await ask(f);
      const after = await f.as(suiteActors.bob, (e) => e.approve({ requestId: r.id }));
      expect(after.status).toBe('PENDING');
      expect(after.approvals).toEqual(['bob']);
      expect(await settledCode(f.as(suiteActors.bob, (e) => e.approve({ requestId: r.id })))).toBe(
        'APPROVAL_ALREADY_DECIDED',
      );
    });

    it('counts a person once whether they decide as themselves or while impersonating someone', async () => {
      const f = await fixture();
      // carol impersonating alice, then carol as herself: one person, one vote.
      const r = await ask(f);
      const first = await f.as(suiteActors.alice, (e) => e.approve({ requestId: r.id }), suiteActors.carol);
      expect([first.status, first.approvals]).toEqual(['PENDING', ['alice']]);
      expect(await settledCode(f.as(suiteActors.carol, (e) => e.approve({ requestId: r.id })))).toBe(
        'APPROVAL_ALREADY_DECIDED',
      );
      expect(await settledCode(f.as(suiteActors.alice, (e) => e.approve({ requestId: r.id })))).toBe(
        'APPROVAL_ALREADY_DECIDED',
      );
      // carol has decided it: it is not in her inbox, and it is in her decisions.
      expect((await f.as(suiteActors.carol, (e) => e.inbox())).items.map((i) => i.id)).not.toContain(r.id);
      expect(
        (await f.as(suiteActors.carol, (e) => e.list({ approverId: 'carol' }))).items.map((i) => i.id),
      ).toEqual([r.id]);
      // The other way round: carol as herself, then carol impersonating bob.
      const s = await ask(f);
      await f.as(suiteActors.carol, (e) => e.approve({ requestId: s.id }));
      expect(
        await settledCode(f.as(suiteActors.bob, (e) => e.approve({ requestId: s.id }), suiteActors.carol)),
      ).toBe('APPROVAL_ALREADY_DECIDED');
      expect(
        await settledCode(f.as(suiteActors.bob, (e) => e.reject({ requestId: s.id }), suiteActors.carol)),
      ).toBe('APPROVAL_ALREADY_DECIDED');
      expect(f.effects.get(s.id)).toBeUndefined();
      // A second person completes the first request: executed once.
      const done = await f.as(suiteActors.bob, (e) => e.approve({ requestId: r.id }));
      expect([done.status, done.approvals]).toEqual(['EXECUTED', ['alice', 'bob']]);
      expect(f.effects.get(r.id)).toBe(1);
    });

    it('an expired request cannot be approved even with no sweeper; the write releases the lock and keeps history', async () => {
      const f = await fixture();
      const r = await ask(f, 'x1');
      await f.as(suiteActors.alice, (e) => e.approve({ requestId: r.id }));
      f.clock.advance(3_600_000);
      expect((await f.as(suiteActors.alice, (e) => e.get({ requestId: r.id }))).status).toBe('EXPIRED');
      expect(await settledCode(f.as(suiteActors.carol, (e) => e.approve({ requestId: r.id })))).toBe(
        'APPROVAL_EXPIRED',
      );
      expect(f.effects.get(r.id)).toBeUndefined();
      expect(f.locks.get('x1')).toBe(false);
      expect(await settledCode(f.as(suiteActors.carol, (e) => e.approve({ requestId: r.id })))).toBe(
        'APPROVAL_EXPIRED',
      );
      const history = await f.as(suiteActors.alice, (e) => e.list({ resource: { type: 'asset', id: 'x1' } }));
      expect(history.items.map((i) => [i.id, i.status])).toEqual([[r.id, 'EXPIRED']]);
      expect(history.items[0]!.history.map((h) => h.type)).toEqual(['requested', 'approved', 'expired']);
      expect((await ask(f, 'x1')).status).toBe('PENDING');
    });

    it('a new request replaces an expired pending one that no sweeper wrote down, releasing its lock first', async () => {
      const f = await fixture();
      const old = await ask(f, 'x2');
      f.clock.advance(3_600_001);
      const fresh = await ask(f, 'x2');
      expect(fresh.id).not.toBe(old.id);
      expect((await f.as(suiteActors.alice, (e) => e.get({ requestId: old.id }))).approvalState).toBe(
        'EXPIRED',
      );
      expect(f.locks.get('x2')).toBe(true);
    });

    it('rejection and cancellation release the soft lock; only the maker cancels', async () => {
      const f = await fixture();
      const a = await ask(f, 'c1');
      expect(await settledCode(f.as(suiteActors.alice, (e) => e.cancel({ requestId: a.id })))).toBe(
        'APPROVAL_NOT_MAKER',
      );
      expect((await f.as(suiteActors.maker, (e) => e.cancel({ requestId: a.id }))).status).toBe('CANCELLED');
      expect(f.locks.get('c1')).toBe(false);
      const b = await ask(f, 'c2');
      expect(
        (await f.as(suiteActors.alice, (e) => e.reject({ requestId: b.id, comment: 'no' }))).status,
      ).toBe('REJECTED');
      expect(f.locks.get('c2')).toBe(false);
    });

    it('allows no transition out of a final state', async () => {
      const f = await fixture();
      const ids: string[] = [];
      const a = await ask(f);
      await f.as(suiteActors.maker, (e) => e.cancel({ requestId: a.id }));
      const b = await ask(f);
      await f.as(suiteActors.alice, (e) => e.reject({ requestId: b.id }));
      const c = await ask(f);
      await f.as(suiteActors.alice, (e) => e.approve({ requestId: c.id }));
      await f.as(suiteActors.carol, (e) => e.approve({ requestId: c.id }));
      ids.push(a.id, b.id, c.id);
      for (const id of ids) {
        for (const op of [
          () => f.as(suiteActors.bob, (e) => e.approve({ requestId: id })),
          () => f.as(suiteActors.bob, (e) => e.reject({ requestId: id })),
          () => f.as(suiteActors.maker, (e) => e.cancel({ requestId: id })),
          () => f.as(suiteActors.root, (e) => e.bypass({ requestId: id, reason: 'emergency' })),
        ]) {
          expect(await settledCode(op())).toBe('APPROVAL_INVALID_STATE');
        }
        expect(['APPROVAL_INVALID_STATE', 'APPROVAL_RETRY_NOT_ALLOWED']).toContain(
          await settledCode(f.as(suiteActors.maker, (e) => e.execute({ requestId: id }))),
        );
      }
      expect(f.effects.get(c.id)).toBe(1);
      expect((await f.as(suiteActors.bob, (e) => e.get({ requestId: a.id }))).status).toBe('CANCELLED');
    });

    it('a policy change does not alter pending requests', async () => {
      const f = await fixture();
      const r = await ask(f);
      await f.as(suiteActors.admin, (e) =>
        e.setPolicies({
          policies: [{ action: 'asset.delete', approvalsRequired: 1, approverRoles: ['USER'] }],
          expectedVersion: 1,
        }),
      );
      expect(await settledCode(f.as(suiteActors.eve, (e) => e.approve({ requestId: r.id })))).toBe(
        'APPROVAL_NOT_ELIGIBLE',
      );
      expect((await f.as(suiteActors.alice, (e) => e.approve({ requestId: r.id }))).status).toBe('PENDING');
      expect((await f.as(suiteActors.carol, (e) => e.approve({ requestId: r.id }))).status).toBe('EXECUTED');
      const later = await ask(f);
      expect(later.rules.version).toBe(2);
      expect((await f.as(suiteActors.eve, (e) => e.approve({ requestId: later.id }))).status).toBe(
        'EXECUTED',
      );
    });

    it('a policy change made by another engine (another process) applies to the next request; pending ones keep theirs', async () => {
      const f = await fixture();
      const before = await ask(f);
      expect(before.rules.version).toBe(1);
      // A second engine on the same store: what another process sees. The fixture's engine may have
      // cached version 1; its next request must still be made under version 2.
      const other = createApprovalEngine({ store: f.store, audit: f.audit, clock: f.clock });
      await runAsTenant({ tenantId: f.tenant, actor: suiteActors.admin }, () =>
        other.setPolicies({
          policies: [{ action: 'asset.delete', approvalsRequired: 1, approverRoles: ['USER'] }],
          expectedVersion: 1,
        }),
      );
      const after = await ask(f);
      expect(after.rules.version).toBe(2);
      expect(after.rules.policy?.approverRoles).toEqual(['USER']);
      expect((await f.as(suiteActors.eve, (e) => e.approve({ requestId: after.id }))).status).toBe(
        'EXECUTED',
      );
      expect(await settledCode(f.as(suiteActors.eve, (e) => e.approve({ requestId: before.id })))).toBe(
        'APPROVAL_NOT_ELIGIBLE',
      );
      expect((await f.as(suiteActors.alice, (e) => e.approve({ requestId: before.id }))).status).toBe(
        'PENDING',
      );
      // And back: a change that removes the policy makes the next request run at once, recorded as such.
      await runAsTenant({ tenantId: f.tenant, actor: suiteActors.admin }, () =>
        other.setPolicies({ policies: [], expectedVersion: 2 }),
      );
      const free = await ask(f);
      expect(free.rules).toMatchObject({ version: 0, policy: null });
      expect(free.status).toBe('EXECUTED');
    });

    it('a store declaring policyVersionCheck refuses an insert made under a policy version that is not the latest', async () => {
      const f = await fixture();
      if (f.store.capabilities.policyVersionCheck !== true) return;
      const template = await ask(f, 'template');
      const fresh = (resourceId: string): ApprovalRequest => ({
        ...template,
        id: uuidv7(),
        resource: { type: 'asset', id: resourceId },
      });
      const stale = fresh('v0');
      expect(await f.store.unitOfWork((tx) => tx.insert(stale, { expectedPolicyVersion: 0 }))).toEqual({
        inserted: false,
        stalePolicy: true,
      });
      expect(await f.store.get(f.tenant, stale.id)).toBeNull();
      const current = fresh('v1');
      expect(await f.store.unitOfWork((tx) => tx.insert(current, { expectedPolicyVersion: 1 }))).toEqual({
        inserted: true,
      });
      expect((await f.store.get(f.tenant, current.id))?.id).toBe(current.id);
      // A duplicate pending request is still named, whatever the version.
      const dup = await f.store.unitOfWork((tx) => tx.insert(fresh('v1'), { expectedPolicyVersion: 1 }));
      expect(dup.inserted === false && dup.pending?.id).toBe(current.id);
    });

    it('policies: versioned, tenant admins only, concurrent edits refused, every change audited', async () => {
      const f = await fixture();
      expect(await settledCode(f.as(suiteActors.alice, (e) => e.setPolicies({ policies: [] })))).toBe(
        'PERMISSION_DENIED',
      );
      expect(
        await settledCode(
          f.as(suiteActors.admin, (e) => e.setPolicies({ policies: [], expectedVersion: 0 })),
        ),
      ).toBe('APPROVAL_POLICY_CONFLICT');
      expect(
        await settledCode(
          f.as(suiteActors.admin, (e) =>
            e.setPolicies({ policies: [{ action: 'Bad Name', approverRoles: ['MANAGER'] }] }),
          ),
        ),
      ).toBe('VALIDATION_FAILED');
      const v2 = await f.as(suiteActors.admin, (e) => e.setPolicies({ policies: [], expectedVersion: 1 }));
      expect(v2.version).toBe(2);
      expect((await f.as(suiteActors.alice, (e) => e.getPolicies())).version).toBe(2);
      expect(f.audit.withAction('approval.policy.changed').map((e) => e.metadata?.version)).toEqual([1, 2]);
    });

    it('bypass: a distinct audited event, visible in history, needing a reason and a bypass role', async () => {
      const f = await fixture();
      const r = await ask(f);
      expect(
        await settledCode(f.as(suiteActors.root, (e) => e.bypass({ requestId: r.id, reason: '' }))),
      ).toBe('VALIDATION_FAILED');
      expect(
        await settledCode(f.as(suiteActors.alice, (e) => e.bypass({ requestId: r.id, reason: 'outage' }))),
      ).toBe('APPROVAL_NOT_ELIGIBLE');
      const done = await f.as(suiteActors.root, (e) =>
        e.bypass({ requestId: r.id, reason: 'production outage' }),
      );
      expect(done.status).toBe('EXECUTED');
      expect(done.history.map((h) => h.type)).toEqual(['requested', 'bypassed', 'executed']);
      expect(done.history[1]!.comment).toBe('production outage');
      expect(f.audit.withAction('approval.bypassed')).toHaveLength(1);
      expect(f.audit.withAction('approval.approved')).toHaveLength(0);
      const off = await fixture({ policies: [{ action: 'asset.delete', approverRoles: ['MANAGER'] }] });
      const r2 = await ask(off);
      expect(
        await settledCode(off.as(suiteActors.root, (e) => e.bypass({ requestId: r2.id, reason: 'outage' }))),
      ).toBe('APPROVAL_BYPASS_DISABLED');
    });

    it('with no policy the action runs at once, and that is recorded', async () => {
      const f = await fixture({ policies: [] });
      const r = await ask(f, 'np');
      expect(r.status).toBe('EXECUTED');
      expect(f.effects.get(r.id)).toBe(1);
      expect(f.locks.get('np')).toBeUndefined();
      expect(r.history.map((h) => h.type)).toEqual(['executed_without_policy', 'executed']);
      expect(f.audit.withAction('approval.executed_without_policy')).toHaveLength(1);
    });

    it('a failed execution keeps its error code (not its message); retry only where the policy allows', async () => {
      const f = await fixture();
      const r = await ask(f, 'f1', 'asset.delete', { fail: true });
      await f.as(suiteActors.alice, (e) => e.approve({ requestId: r.id }));
      const failed = await f.as(suiteActors.carol, (e) => e.approve({ requestId: r.id }));
      expect([failed.status, failed.lastErrorCode, failed.attempts]).toEqual(['FAILED', 'DISK_FULL', 1]);
      expect(JSON.stringify(failed)).not.toContain('secret detail');
      expect(f.locks.get('f1')).toBe(false);
      expect(await settledCode(f.as(suiteActors.alice, (e) => e.execute({ requestId: r.id })))).toBe(
        'APPROVAL_RETRY_NOT_ALLOWED',
      );
      const m = await ask(f, 'f2', 'asset.export', { fail: true });
      const approved = await f.as(suiteActors.alice, (e) => e.approve({ requestId: m.id }));
      expect([approved.status, f.effects.get(m.id)]).toEqual(['APPROVED', undefined]);
      expect(await settledCode(f.as(suiteActors.eve, (e) => e.execute({ requestId: m.id })))).toBe(
        'APPROVAL_NOT_ELIGIBLE',
      );
      expect((await f.as(suiteActors.maker, (e) => e.execute({ requestId: m.id }))).status).toBe('FAILED');
      expect(f.locks.get('f2')).toBe(true);
      expect((await f.as(suiteActors.carol, (e) => e.execute({ requestId: m.id }))).attempts).toBe(2);
    });

    it('concurrent last approvals and executions in one process run the handler once', async () => {
      const f = await fixture({
        policies: [{ action: 'asset.delete', approvalsRequired: 2, approverRoles: ['MANAGER'] }],
      });
      const r = await ask(f);
      const who = ['alice', 'carol', 'dave', 'frank'].map((id) => ({ id, roles: ['MANAGER'] }));
      const codes = await Promise.all(
        who.map((a) => settledCode(f.as(a, (e) => e.approve({ requestId: r.id })))),
      );
      expect(codes.filter((c) => c === 'resolved').length).toBeGreaterThanOrEqual(2);
      expect(f.effects.get(r.id)).toBe(1);
      const final = await f.as(suiteActors.alice, (e) => e.get({ requestId: r.id }));
      expect([final.status, final.approvals.length]).toEqual(['EXECUTED', 2]);
    });

    it('history is queryable per tenant, resource, maker and approver with cursor pagination; inbox lists what I may decide', async () => {
      const f = await fixture();
      const made: string[] = [];
      for (let i = 0; i < 7; i++)
        made.push(
          (await ask(f, `h${i % 3}`, i < 3 ? 'asset.delete' : i < 6 ? 'asset.export' : 'asset.rename')).id,
        );
      await f.as(suiteActors.alice, (e) => e.approve({ requestId: made[0]! }));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await f.as(suiteActors.alice, (e) =>
          e.list({ limit: 3, ...(cursor ? { cursor } : {}) }),
        );
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([...made].reverse());
      expect(
        (await f.as(suiteActors.alice, (e) => e.list({ resource: { type: 'asset', id: 'h0' } }))).items.map(
          (i) => i.id,
        ),
      ).toEqual([made[6], made[3], made[0]]);
      expect((await f.as(suiteActors.alice, (e) => e.list({ makerId: 'maker' }))).items).toHaveLength(7);
      expect(
        (await f.as(suiteActors.alice, (e) => e.list({ approverId: 'alice' }))).items.map((i) => i.id),
      ).toEqual([made[0]]);
      expect((await f.as(suiteActors.alice, (e) => e.inbox())).items.map((i) => i.id)).toEqual(
        [...made].reverse().slice(0, 6),
      );
      expect((await f.as(suiteActors.eve, (e) => e.inbox())).items).toHaveLength(0);
      expect((await f.as(suiteActors.admin, (e) => e.inbox())).items.map((i) => i.id)).toEqual([
        made[2],
        made[1],
        made[0],
      ]);
      expect((await f.as(suiteActors.bob, (e) => e.inbox())).items).toHaveLength(7);
      expect(await settledCode(f.as(suiteActors.alice, (e) => e.list({ cursor: 'bogus' })))).toBe(
        'APPROVAL_CURSOR_INVALID',
      );
    });

    it("another tenant's request is invisible and untouchable from a tenant context", async () => {
      const f = await fixture();
      const g = await fixture();
      const r = await ask(f, 'iso');
      const mine = <R>(op: (e: ApprovalEngine) => Promise<R>) => g.as(suiteActors.alice, op);
      expect(await settledCode(mine((e) => e.get({ requestId: r.id })))).toBe('APPROVAL_NOT_FOUND');
      expect(await settledCode(mine((e) => e.approve({ requestId: r.id })))).toBe('APPROVAL_NOT_FOUND');
      expect(await settledCode(mine((e) => e.get({ requestId: r.id, tenantId: f.tenant })))).toBe(
        'TENANT_CONTEXT_CONFLICT',
      );
      expect((await mine((e) => e.list())).items).toHaveLength(0);
      expect((await mine((e) => e.inbox())).items).toHaveLength(0);
      g.clock.advance(3_600_000);
      expect((await mine((e) => e.sweep())).released).toBe(0);
      expect(f.locks.get('iso')).toBe(true);
    });

    it('the sweeper releases the locks of expired requests, once, even from several sweepers at once', async () => {
      const f = await fixture();
      const unlocks: string[] = [];
      f.engine.registerResource('asset', {
        lock: () => undefined,
        unlock: ({ requestId }) => void unlocks.push(requestId),
      });
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await ask(f)).id);
      f.clock.advance(3_600_000);
      await Promise.all([1, 2, 3].map(() => f.as(suiteActors.admin, (e) => e.sweep())));
      expect([...unlocks].sort()).toEqual([...ids].sort());
      const audit = new MemoryAuditPort();
      await runAsSystem({ actor: { id: 'sweeper', kind: 'service' }, reason: 'nightly sweep' }, audit, () =>
        f.engine.sweep({ tenantId: f.tenant }),
      );
      expect(unlocks).toHaveLength(5);
      expect(f.audit.withAction('approval.expired')).toHaveLength(5);
    });
  });
}
