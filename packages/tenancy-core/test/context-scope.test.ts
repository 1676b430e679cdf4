import { describe, expect, it } from 'vitest';
import {
  MemoryAuditPort,
  bindToCurrentContext,
  currentSystemScope,
  currentTenantContext,
  isTenantryError,
  requireSystemScope,
  requireTenant,
  requireTenantId,
  resolveTenantId,
  runAsSystem,
  runAsTenant,
  runWithoutContext,
} from '../src/index.js';

// Cases mutation testing showed no test would notice (issue 12): each pins one decision of
// kernel/context.ts or kernel/tenant-resolution.ts.

const acme = { tenantId: 'acme', actor: { id: 'u1' } };
const globex = { tenantId: 'globex', actor: { id: 'u9' } };
const ops = { actor: { id: 'ops', kind: 'service' as const }, reason: 'support ticket 42' };

const errorOf = (fn: () => unknown): { code: string; message: string; details?: unknown } => {
  try {
    fn();
  } catch (e) {
    if (isTenantryError(e)) return { code: e.code, message: e.message, details: e.details };
    return { code: 'untyped', message: String(e) };
  }
  return { code: 'ok', message: '' };
};

describe('runWithoutContext', () => {
  it('runs the callback exactly once, returns its value, and the callback sees no context', () => {
    let calls = 0;
    const seen = runAsTenant(acme, () =>
      runWithoutContext(() => {
        calls++;
        return { tenant: currentTenantContext(), system: currentSystemScope() };
      }),
    );
    expect(calls).toBe(1);
    expect(seen).toEqual({ tenant: undefined, system: undefined });
    expect(runWithoutContext(() => 'outside')).toBe('outside');
    // The caller's context is intact afterwards.
    expect(runAsTenant(acme, () => [runWithoutContext(() => 1), requireTenantId()])).toEqual([1, 'acme']);
  });

  it('leaves a system scope too; inside, a tenant may then be entered freely (nothing was left behind)', async () => {
    const audit = new MemoryAuditPort();
    const out = await runAsSystem(ops, audit, () =>
      runAsTenant(acme, () =>
        runWithoutContext(() => ({
          system: currentSystemScope(),
          tenant: currentTenantContext(),
          other: runAsTenant(globex, () => requireTenantId()),
        })),
      ),
    );
    expect(out).toEqual({ system: undefined, tenant: undefined, other: 'globex' });
  });

  it('refuses a non-function with VALIDATION_FAILED', () => {
    expect(errorOf(() => runWithoutContext(42 as never)).code).toBe('VALIDATION_FAILED');
  });
});

describe('system scope reasons', () => {
  it.each(['', '  ', '\t\n  ', '  a ', 'ab'])('refuses the reason %j (at least 3 characters besides spaces)', async (reason) => {
    const audit = new MemoryAuditPort();
    let ran = false;
    const err = await runAsSystem({ ...ops, reason }, audit, () => {
      ran = true;
    }).catch((e) => e);
    expect(isTenantryError(err, 'VALIDATION_FAILED')).toBe(true);
    expect(ran).toBe(false);
    expect(audit.events).toEqual([]);
  });

  it('accepts 3 and 500 characters, trims the recorded reason, refuses 501', async () => {
    const audit = new MemoryAuditPort();
    await runAsSystem({ ...ops, reason: '  abc  ' }, audit, () => {
      expect(currentSystemScope()?.reason).toBe('abc');
    });
    expect(audit.events[0]?.metadata).toEqual({ reason: 'abc' });
    await expect(runAsSystem({ ...ops, reason: 'x'.repeat(500) }, audit, () => 1)).resolves.toBe(1);
    const err = await runAsSystem({ ...ops, reason: 'x'.repeat(501) }, audit, () => 1).catch((e) => e);
    expect(isTenantryError(err, 'VALIDATION_FAILED')).toBe(true);
  });

  it('records entry before the work and exit after it, with the actor, no tenant and the scope target', async () => {
    const audit = new MemoryAuditPort();
    const order: string[] = [];
    await runAsSystem(ops, { record: async (e) => void order.push(e.action) && audit.record(e) }, () => {
      order.push('work');
      expect(currentSystemScope()).toMatchObject({ actor: { id: 'ops' }, reason: 'support ticket 42' });
      expect(Object.isFrozen(currentSystemScope())).toBe(true);
    });
    expect(order).toEqual(['system_scope.entered', 'work', 'system_scope.exited']);
    for (const e of audit.events) {
      expect(e).toMatchObject({ tenantId: null, actor: { id: 'ops' }, targets: [{ type: 'system-scope' }] });
    }
  });
});

describe('runAsTenant nesting', () => {
  it('re-entering the same tenant is allowed; another is TENANT_CONTEXT_CONFLICT naming both', () => {
    expect(runAsTenant(acme, () => runAsTenant(acme, () => requireTenantId()))).toBe('acme');
    const e = runAsTenant(acme, () => errorOf(() => runAsTenant(globex, () => 1)));
    expect(e.code).toBe('TENANT_CONTEXT_CONFLICT');
    expect(e.details).toEqual({ from: 'acme', to: 'globex' });
  });

  it('the context is deep-frozen', () => {
    runAsTenant({ tenantId: 'acme', actor: { id: 'u1', roles: ['USER'] } }, () => {
      const t = requireTenant();
      expect(Object.isFrozen(t)).toBe(true);
      expect(Object.isFrozen(t.actor)).toBe(true);
      expect(Object.isFrozen(t.actor.roles)).toBe(true);
    });
  });

  it('requireTenant outside a context is TENANT_CONTEXT_MISSING, inside a system scope too', async () => {
    expect(errorOf(() => requireTenant()).code).toBe('TENANT_CONTEXT_MISSING');
    expect(errorOf(() => requireTenantId()).code).toBe('TENANT_CONTEXT_MISSING');
    await runAsSystem(ops, new MemoryAuditPort(), () => {
      expect(errorOf(() => requireTenant()).code).toBe('TENANT_CONTEXT_MISSING');
    });
  });

  it('bindToCurrentContext runs later calls in the bound context, or in none', () => {
    const bound = runAsTenant(acme, () => bindToCurrentContext((x: number) => `${requireTenantId()}:${x}`));
    expect(runAsTenant(globex, () => bound(1))).toBe('acme:1');
    expect(bound(2)).toBe('acme:2');
    const unbound = bindToCurrentContext(() => currentTenantContext());
    expect(runAsTenant(globex, () => unbound())).toBeUndefined();
  });
});

describe('resolveTenantId (T1), case by case', () => {
  it('inside a tenant context: omitted or the same → that tenant; another → CONFLICT with details', () => {
    runAsTenant(acme, () => {
      expect(resolveTenantId(undefined, 'thing')).toBe('acme');
      expect(resolveTenantId('acme', 'thing')).toBe('acme');
      const e = errorOf(() => resolveTenantId('globex', 'thing'));
      expect(e.code).toBe('TENANT_CONTEXT_CONFLICT');
      expect(e.details).toEqual({ what: 'thing', current: 'acme', requested: 'globex' });
      expect(e.message).toContain('thing');
    });
  });

  it('inside the system scope: a named tenant, else the tenant entered inside it, else MISSING', async () => {
    await runAsSystem(ops, new MemoryAuditPort(), () => {
      expect(resolveTenantId('globex', 'thing')).toBe('globex');
      expect(errorOf(() => resolveTenantId(undefined, 'thing')).code).toBe('TENANT_CONTEXT_MISSING');
      runAsTenant(acme, () => {
        expect(resolveTenantId(undefined, 'thing')).toBe('acme');
        expect(resolveTenantId('globex', 'thing')).toBe('globex');
      });
    });
  });

  it('outside any context: MISSING, with a message that says whether a tenant was named', () => {
    const omitted = errorOf(() => resolveTenantId(undefined, 'audit trail'));
    const named = errorOf(() => resolveTenantId('acme', 'audit trail'));
    expect(omitted.code).toBe('TENANT_CONTEXT_MISSING');
    expect(named.code).toBe('TENANT_CONTEXT_MISSING');
    expect(omitted.message).toBe('The audit trail needs a tenant context and none is active');
    expect(named.message).toContain('outside any context is refused');
    expect(omitted.details).toEqual({ what: 'audit trail' });
  });

  it('validates a named tenant id before anything else, on the hot path and through zod alike', () => {
    for (const bad of ['', ' acme', '-acme', 'a'.repeat(129), 'acme/x', 7]) {
      expect(runAsTenant(acme, () => errorOf(() => resolveTenantId(bad as never, 'thing')).code)).toBe(
        'VALIDATION_FAILED',
      );
    }
    for (const good of ['a', 'A1', 'a.b_c-d', `a${'b'.repeat(127)}`]) {
      expect(runAsSystem(ops, new MemoryAuditPort(), () => resolveTenantId(good, 'thing'))).resolves.toBe(good);
    }
  });

  it('requireSystemScope: SYSTEM_SCOPE_REQUIRED outside, also inside a tenant context; passes inside', async () => {
    const e = errorOf(() => requireSystemScope('plan'));
    expect(e.code).toBe('SYSTEM_SCOPE_REQUIRED');
    expect(e.details).toEqual({ what: 'plan' });
    expect(e.message).toContain('plan');
    expect(runAsTenant(acme, () => errorOf(() => requireSystemScope('plan')).code)).toBe('SYSTEM_SCOPE_REQUIRED');
    await runAsSystem(ops, new MemoryAuditPort(), () => {
      expect(errorOf(() => requireSystemScope('plan')).code).toBe('ok');
    });
  });

  it('a non-string `what` is made safe text, never a crash', () => {
    expect(errorOf(() => resolveTenantId(undefined, { toString: () => 'x' } as never)).code).toBe(
      'TENANT_CONTEXT_MISSING',
    );
    expect(errorOf(() => requireSystemScope(42 as never)).code).toBe('SYSTEM_SCOPE_REQUIRED');
  });
});
