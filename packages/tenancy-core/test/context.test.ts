import { describe, expect, it } from 'vitest';
import {
  MemoryAuditPort,
  currentSystemScope,
  currentTenantContext,
  isTenantryError,
  parseActor,
  requireTenant,
  requireTenantId,
  runAsSystem,
  runAsTenant,
  runWithoutContext,
  type AuditPort,
} from '../src/index.js';

const acme = { tenantId: 'acme', actor: { id: 'u1', roles: ['MANAGER'] } };

describe('tenant context', () => {
  it('a missing context is an error, never "all tenants"', () => {
    expect(currentTenantContext()).toBeUndefined();
    expect(() => requireTenant()).toThrowError(expect.objectContaining({ code: 'TENANT_CONTEXT_MISSING' }));
    expect(() => requireTenantId()).toThrowError(expect.objectContaining({ code: 'TENANT_CONTEXT_MISSING' }));
  });

  it('runs a function as a tenant and an actor, with defaults applied and the context frozen', async () => {
    await runAsTenant(acme, async () => {
      await new Promise((r) => setTimeout(r, 1));
      const ctx = requireTenant();
      expect(ctx).toEqual({ tenantId: 'acme', actor: { id: 'u1', roles: ['MANAGER'], kind: 'user' } });
      expect(Object.isFrozen(ctx.actor.roles)).toBe(true);
    });
    expect(currentTenantContext()).toBeUndefined();
  });

  it('carries the impersonator alongside the actor', () => {
    runAsTenant({ ...acme, impersonator: { id: 'support-7', roles: ['SUPER_ADMIN'] } }, () => {
      expect(requireTenant().impersonator?.id).toBe('support-7');
      expect(requireTenant().actor.id).toBe('u1');
    });
  });

  it('rejects malformed contexts with VALIDATION_FAILED and runs nothing', () => {
    let ran = false;
    for (const bad of [
      { tenantId: '', actor: { id: 'u' } },
      { tenantId: 'a:b', actor: { id: 'u' } },
      { tenantId: 'acme' },
    ]) {
      expect(() => runAsTenant(bad as never, () => (ran = true))).toThrowError(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
    }
    expect(ran).toBe(false);
  });

  it('enters a context whose actor came from parseActor as is, still checking the tenant id and request id', () => {
    const actor = parseActor({ id: 'u1', roles: ['MANAGER'] }, 'token subject');
    const support = parseActor({ id: 'support-7', roles: ['SUPER_ADMIN'] });
    expect(Object.isFrozen(actor) && Object.isFrozen(actor.roles)).toBe(true);
    // The validated actor object itself is entered (a zod parse would have copied it); the context
    // holds only the schema's keys and is frozen.
    runAsTenant(
      { tenantId: 'acme', actor, impersonator: support, requestId: 'r-1', extra: 1 } as never,
      () => {
        const ctx = requireTenant();
        expect(ctx.actor).toBe(actor);
        expect(ctx.impersonator).toBe(support);
        expect(ctx).toEqual({ tenantId: 'acme', actor, impersonator: support, requestId: 'r-1' });
        expect(Object.isFrozen(ctx)).toBe(true);
      },
    );
    // A look-alike actor that did not come from parseActor is parsed (copied, defaults applied)…
    const lookAlike = { id: 'u1', roles: ['MANAGER'], kind: 'user' as const };
    runAsTenant({ tenantId: 'acme', actor: lookAlike }, () =>
      expect(requireTenant().actor).not.toBe(lookAlike),
    );
    // …and a malformed one is refused even when its impersonator is validated.
    expect(() =>
      runAsTenant({ tenantId: 'acme', actor: { id: '' }, impersonator: support }, () => 1),
    ).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    // The scalars are still checked on the fast path.
    for (const bad of [
      { tenantId: 'a:b', actor },
      { tenantId: '', actor },
      { tenantId: 'acme', actor, requestId: '' },
      { tenantId: 'acme', actor, requestId: 'x'.repeat(257) },
      { tenantId: 'acme', actor, impersonator: { id: '', roles: ['SUPER_ADMIN'] } },
    ]) {
      expect(() => runAsTenant(bad as never, () => 1), JSON.stringify(bad).slice(0, 60)).toThrowError(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
    }
    expect(() => parseActor({ id: 'u', roles: 'ADMIN' })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('refuses to switch to another tenant outside a system scope', () => {
    runAsTenant(acme, () => {
      expect(() => runAsTenant({ tenantId: 'globex', actor: { id: 'u2' } }, () => 1)).toThrowError(
        expect.objectContaining({ code: 'TENANT_CONTEXT_CONFLICT' }),
      );
      // Same tenant, different actor (e.g. a service call on the user's behalf) is fine.
      expect(
        runAsTenant(
          { tenantId: 'acme', actor: { id: 'svc', kind: 'service' } },
          () => requireTenant().actor.id,
        ),
      ).toBe('svc');
    });
  });

  it('runWithoutContext detaches background work from the request', () => {
    runAsTenant(acme, () => {
      runWithoutContext(() => expect(currentTenantContext()).toBeUndefined());
    });
  });

  it('leaving a tenant with runWithoutContext is no way into another tenant (only back, or through runAsSystem)', async () => {
    const globex = { tenantId: 'globex', actor: { id: 'u9' } };
    const codeOf = (fn: () => unknown): string => {
      try {
        fn();
        return 'ok';
      } catch (e) {
        return isTenantryError(e) ? e.code : 'untyped';
      }
    };
    runAsTenant(acme, () => {
      expect(codeOf(() => runWithoutContext(() => runAsTenant(globex, () => 1)))).toBe(
        'TENANT_CONTEXT_CONFLICT',
      );
      expect(
        codeOf(() => runWithoutContext(() => runWithoutContext(() => runAsTenant(globex, () => 1)))),
      ).toBe('TENANT_CONTEXT_CONFLICT');
      expect(runWithoutContext(() => runAsTenant(acme, () => requireTenantId()))).toBe('acme');
    });
    // also after an await or a timer inside the detached work
    const later = await runAsTenant(acme, () =>
      runWithoutContext(async () => {
        await new Promise((r) => setTimeout(r, 1));
        return codeOf(() => runAsTenant(globex, () => 1));
      }),
    );
    expect(later).toBe('TENANT_CONTEXT_CONFLICT');
    // the audited way across still works from the detached work, and is audited
    const audit = new MemoryAuditPort();
    const crossed = await runAsTenant(acme, () =>
      runWithoutContext(() =>
        runAsSystem({ actor: { id: 'ops', kind: 'service' }, reason: 'move to globex' }, audit, () =>
          runAsTenant(globex, () => requireTenantId()),
        ),
      ),
    );
    expect(crossed).toBe('globex');
    expect(audit.events.map((e) => e.action)).toEqual(['system_scope.entered', 'system_scope.exited']);
    // outside any context, runWithoutContext changes nothing
    expect(runWithoutContext(() => runAsTenant(globex, () => requireTenantId()))).toBe('globex');
  });
});

describe('system scope', () => {
  const system = { actor: { id: 'billing-job', kind: 'service' as const }, reason: 'nightly invoicing' };

  it('records entry and exit through the audit port and allows cross-tenant work inside', async () => {
    const audit = new MemoryAuditPort();
    const seen = await runAsSystem(system, audit, async () => {
      expect(currentSystemScope()?.reason).toBe('nightly invoicing');
      expect(() => requireTenant()).toThrow();
      const out: string[] = [];
      for (const t of ['acme', 'globex']) {
        await runAsTenant({ tenantId: t, actor: { id: 'billing-job', kind: 'service' } }, async () => {
          out.push(requireTenantId());
          // Nested switch is allowed inside the system scope.
          runAsTenant({ tenantId: 'initech', actor: { id: 'x' } }, () => out.push(requireTenantId()));
        });
      }
      return out;
    });
    expect(seen).toEqual(['acme', 'initech', 'globex', 'initech']);
    expect(audit.events.map((e) => [e.action, e.outcome])).toEqual([
      ['system_scope.entered', 'success'],
      ['system_scope.exited', 'success'],
    ]);
    expect(audit.events[0]?.metadata).toEqual({ reason: 'nightly invoicing' });
    expect(currentSystemScope()).toBeUndefined();
  });

  it('fails closed: if the audit write fails, the work does not run', async () => {
    const failing: AuditPort = { record: async () => Promise.reject(new Error('audit down')) };
    let ran = false;
    await expect(runAsSystem(system, failing, () => (ran = true))).rejects.toThrow('audit down');
    expect(ran).toBe(false);
  });

  it('records a failed outcome when the work throws', async () => {
    const audit = new MemoryAuditPort();
    await expect(runAsSystem(system, audit, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(audit.events.at(-1)).toMatchObject({ action: 'system_scope.exited', outcome: 'failure' });
  });

  it('needs a reason', async () => {
    const err = await runAsSystem({ actor: { id: 'x' }, reason: '' }, new MemoryAuditPort(), () => 1).catch(
      (e) => e,
    );
    expect(isTenantryError(err, 'VALIDATION_FAILED')).toBe(true);
  });
});
