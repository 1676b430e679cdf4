import { describe, expect, it } from 'vitest';
import {
  MemoryAuditPort,
  bindToCurrentContext,
  confinedTenantId,
  currentSystemScope,
  currentTenantContext,
  isTenantryError,
  maskKeyName,
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

describe('a function bound outside any context', () => {
  it('called from inside a tenant, runs without context and cannot enter another tenant', () => {
    const bound = bindToCurrentContext((tenant: typeof acme) => ({
      seen: currentTenantContext(),
      confined: confinedTenantId(),
      entered: errorOf(() => runAsTenant(tenant, () => requireTenantId())).code,
    }));
    // From inside acme: the left tenant may be re-entered, another one may not.
    expect(runAsTenant(acme, () => bound(globex))).toEqual({
      seen: undefined,
      confined: 'acme',
      entered: 'TENANT_CONTEXT_CONFLICT',
    });
    expect(runAsTenant(acme, () => bound(acme)).entered).toBe('ok');
    // Called where no context is active, it may enter any tenant (it is platform code).
    expect(bound(globex)).toEqual({ seen: undefined, confined: undefined, entered: 'ok' });
  });

  it('confinedTenantId names the context or the tenant left, never inside a system scope', async () => {
    expect(confinedTenantId()).toBeUndefined();
    expect(runAsTenant(acme, () => confinedTenantId())).toBe('acme');
    expect(runAsTenant(acme, () => runWithoutContext(() => confinedTenantId()))).toBe('acme');
    expect(await runAsSystem(ops, new MemoryAuditPort(), async () => confinedTenantId())).toBeUndefined();
  });
});

describe('system scope reasons', () => {
  it.each(['', '  ', '\t\n  ', '  a ', 'ab'])(
    'refuses the reason %j (at least 3 characters besides spaces)',
    async (reason) => {
      const audit = new MemoryAuditPort();
      let ran = false;
      const err = await runAsSystem({ ...ops, reason }, audit, () => {
        ran = true;
      }).catch((e) => e);
      expect(isTenantryError(err, 'VALIDATION_FAILED')).toBe(true);
      expect(ran).toBe(false);
      expect(audit.events).toEqual([]);
    },
  );

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
    const port = {
      record: async (e: Parameters<MemoryAuditPort['record']>[0]) => {
        order.push(e.action);
        await audit.record(e);
      },
    };
    await runAsSystem(ops, port, () => {
      order.push('work');
      expect(currentSystemScope()).toMatchObject({ actor: { id: 'ops' }, reason: 'support ticket 42' });
      expect(Object.isFrozen(currentSystemScope())).toBe(true);
    });
    expect(order).toEqual(['system_scope.entered', 'work', 'system_scope.exited']);
    expect(audit.events).toHaveLength(2);
    for (const e of audit.events) {
      expect(e).toMatchObject({
        tenantId: null,
        actor: { id: 'ops' },
        metadata: { reason: 'support ticket 42' },
      });
      expect(e.targets).toEqual([{ type: 'system-scope' }]);
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
    const unbound = bindToCurrentContext((x: number) => `${currentTenantContext()?.tenantId ?? 'none'}:${x}`);
    expect(runAsTenant(globex, () => unbound(3))).toBe('none:3');
    expect(unbound(4)).toBe('none:4');
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
    expect(omitted.message).toBe(
      'The audit trail needs a tenant context and none is active; run it inside runAsTenant(ctx, fn)',
    );
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
      expect(runAsSystem(ops, new MemoryAuditPort(), () => resolveTenantId(good, 'thing'))).resolves.toBe(
        good,
      );
    }
  });

  it('requireSystemScope: SYSTEM_SCOPE_REQUIRED outside, also inside a tenant context; passes inside', async () => {
    const e = errorOf(() => requireSystemScope('plan'));
    expect(e.code).toBe('SYSTEM_SCOPE_REQUIRED');
    expect(e.details).toEqual({ what: 'plan' });
    expect(e.message).toContain('plan');
    expect(runAsTenant(acme, () => errorOf(() => requireSystemScope('plan')).code)).toBe(
      'SYSTEM_SCOPE_REQUIRED',
    );
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

describe('one context storage per realm, and the labels errors carry', () => {
  it('keeps its AsyncLocalStorage in a global slot, so a duplicated install shares the context', () => {
    const slot = (globalThis as Record<symbol, { getStore(): unknown } | undefined>)[
      Symbol.for('tenantry.context.storage')
    ];
    expect(slot).toBeDefined();
    expect(runAsTenant(acme, () => slot?.getStore())).toMatchObject({ tenant: { tenantId: 'acme' } });
    expect(slot?.getStore()).toBeUndefined();
  });

  it('errors say what failed: context, scope, callback, tenant id', async () => {
    const ctxErr = errorOf(() => runAsTenant({ tenantId: '' } as never, () => 1));
    expect(ctxErr.details).toMatchObject({ what: 'tenant context' });
    const scopeErr = await runAsSystem(
      { actor: { id: 'x' }, reason: '' },
      new MemoryAuditPort(),
      () => 1,
    ).catch((e) => e);
    expect(scopeErr.details).toMatchObject({ what: 'system scope' });
    expect(errorOf(() => runWithoutContext(1 as never)).message).toContain('runWithoutContext callback');
    const idErr = runAsTenant(acme, () => errorOf(() => resolveTenantId('bad id', 'invoice series')));
    expect(idErr.details).toMatchObject({ what: 'tenant id of invoice series' });
    const conflict = runAsTenant(acme, () => errorOf(() => runAsTenant(globex, () => 1)));
    expect(conflict.message).toBe(
      'Cannot enter another tenant from inside a tenant context; use runAsSystem for cross-tenant work',
    );
    expect(errorOf(() => requireTenant()).message).toBe(
      'This operation needs a tenant context and none is active; run it inside runAsTenant(ctx, fn)',
    );
  });

  it('`what` is used as given when it is a string (even a long one), and made safe text otherwise', () => {
    const long = 'w'.repeat(300);
    expect(errorOf(() => resolveTenantId(undefined, long)).details).toEqual({ what: long });
    expect(errorOf(() => requireSystemScope(long)).details).toEqual({ what: long });
    // A symbol cannot go into a template literal: it is described instead, never a raw TypeError.
    const sym = errorOf(() => resolveTenantId(undefined, Symbol('ledger') as never));
    expect(sym).toMatchObject({ code: 'TENANT_CONTEXT_MISSING', details: { what: 'ledger' } });
    const sym2 = errorOf(() => requireSystemScope(Symbol('plans') as never));
    expect(sym2).toMatchObject({ code: 'SYSTEM_SCOPE_REQUIRED', details: { what: 'plans' } });
  });
});

describe('maskKeyName', () => {
  it('folds case, `-`, `_` and white space, and nothing else', () => {
    expect(['Access_Token', 'access-token', 'ACCESS TOKEN', 'accessToken'].map(maskKeyName)).toEqual([
      'accesstoken',
      'accesstoken',
      'accesstoken',
      'accesstoken',
    ]);
    expect(maskKeyName('tax.id')).toBe('tax.id');
    expect(maskKeyName('tokenCount')).toBe('tokencount');
  });
});
