import { describe, expect, it } from 'vitest';
import {
  MemoryAuditPort,
  TenantryError,
  errorCodeSpec,
  requireSystemScope,
  resolveTenantId,
  runAsSystem,
  runAsTenant,
  runWithoutContext,
} from '../src/index.js';
import { type SuiteApi, tenantIsolationConformance } from '../src/testing.js';

const actor = { id: 'u1', roles: ['USER'] };
const code = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof TenantryError ? e.code : `untyped: ${String(e)}`;
  }
};
const system = <R>(fn: () => R) =>
  runAsSystem({ actor: { id: 'ops', kind: 'service' }, reason: 'test scope' }, new MemoryAuditPort(), fn);

describe('resolveTenantId', () => {
  it('fills the tenant from the context and accepts the same tenant named', () => {
    runAsTenant({ tenantId: 'acme', actor }, () => {
      expect(resolveTenantId(undefined, 'thing')).toBe('acme');
      expect(resolveTenantId('acme', 'thing')).toBe('acme');
    });
  });
  it('refuses another tenant inside a tenant context', () => {
    runAsTenant({ tenantId: 'acme', actor }, () => {
      expect(code(() => resolveTenantId('globex', 'thing'))).toBe('TENANT_CONTEXT_CONFLICT');
    });
  });
  it('refuses both a named and an omitted tenant outside any context', () => {
    expect(code(() => resolveTenantId(undefined, 'thing'))).toBe('TENANT_CONTEXT_MISSING');
    expect(code(() => resolveTenantId('acme', 'thing'))).toBe('TENANT_CONTEXT_MISSING');
    runAsTenant({ tenantId: 'acme', actor }, () =>
      runWithoutContext(() =>
        expect(code(() => resolveTenantId('acme', 'thing'))).toBe('TENANT_CONTEXT_MISSING'),
      ),
    );
  });
  it('allows a named tenant inside the system scope, also with a tenant context entered in it', async () => {
    await system(() => {
      expect(resolveTenantId('globex', 'thing')).toBe('globex');
      expect(code(() => resolveTenantId(undefined, 'thing'))).toBe('TENANT_CONTEXT_MISSING');
      runAsTenant({ tenantId: 'acme', actor }, () => {
        expect(resolveTenantId(undefined, 'thing')).toBe('acme');
        expect(resolveTenantId('globex', 'thing')).toBe('globex');
      });
    });
  });
  it.each([null, 123, {}, '', 'a b', '-a', 'x'.repeat(129), 'f\ud800', 'a\u0000'])(
    'refuses a malformed tenant id %j with VALIDATION_FAILED',
    (bad) => {
      runAsTenant({ tenantId: 'acme', actor }, () => {
        expect(code(() => resolveTenantId(bad as string, 'thing'))).toBe('VALIDATION_FAILED');
      });
    },
  );
});

describe('requireSystemScope', () => {
  it('passes only inside runAsSystem', async () => {
    expect(code(() => requireSystemScope('plan'))).toBe('SYSTEM_SCOPE_REQUIRED');
    runAsTenant({ tenantId: 'acme', actor }, () =>
      expect(code(() => requireSystemScope('plan'))).toBe('SYSTEM_SCOPE_REQUIRED'),
    );
    await system(() => expect(code(() => requireSystemScope('plan'))).toBe('ok'));
  });
});

describe('error codes carry their HTTP status', () => {
  it('maps core codes and defaults unknown codes to 500', () => {
    expect(new TenantryError('TENANT_CONTEXT_MISSING', 'x').status).toBe(403);
    expect(new TenantryError('VALIDATION_FAILED', 'x').status).toBe(400);
    expect(errorCodeSpec('NO_SUCH_CODE')).toEqual({ status: 500, retryable: false });
    expect(new TenantryError('NO_SUCH_CODE', 'x').retryable).toBe(false);
  });
});

// Vitest's own functions satisfy the runner-neutral SuiteApi (a compile-time check as much as a run).
const api: SuiteApi = { describe, it, expect };

describe('tenantIsolationConformance on a model operation', () => {
  const seen: string[] = [];
  tenantIsolationConformance(
    () => ({
      tenants: ['acme', 'globex'],
      operations: [
        {
          name: 'resolve',
          call: async (t) => {
            seen.push(resolveTenantId(t, 'probe'));
          },
        },
      ],
    }),
    api,
  );
  it('the operation really ran for the tenants it was allowed', () => {
    expect(seen).toContain('acme');
    expect(seen).toContain('globex');
  });
});

describe('tenantIsolationConformance detects a leaky operation', () => {
  it('fails when an operation ignores the context', async () => {
    const failures: string[] = [];
    const tests: Array<() => Promise<void> | void> = [];
    const recording: SuiteApi = {
      describe: (_n, fn) => fn(),
      it: (_n, fn) => void tests.push(fn),
      expect,
    };
    tenantIsolationConformance(
      () => ({
        tenants: ['acme', 'globex'],
        operations: [{ name: 'leaky', call: async () => 'rows of anyone' }],
      }),
      recording,
    );
    for (const t of tests) {
      try {
        await t();
      } catch (e) {
        failures.push(String(e));
      }
    }
    expect(failures.length).toBeGreaterThanOrEqual(2);
  });
});
