import { isTenantryError } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import {
  TenantHintsSchema,
  assertNamedTenantsAgree,
  assertRoles,
  checkReadiness,
  createHttpTenancy,
  createSegmentMap,
  isMutatingMethod,
  maskBody,
  namedTenants,
  outcomeOfStatus,
  requestAuditEvent,
  subdomainTenant,
} from '../src/index.js';

// DESIGN §4, CONTRIBUTING §5: hostile arguments get a typed error with a code, never a TypeError.
const HOSTILE: readonly unknown[] = [
  undefined,
  null,
  Number.NaN,
  -1,
  10n,
  Symbol('hostile'),
  () => 'hostile',
  new Date(Number.NaN),
  [1, 'a', null],
  {},
];

/** A well-formed request audit input, for the cases that break one field of it. */
const GOOD_AUDIT_INPUT = {
  tenantId: 't1',
  actor: { id: 'u1', kind: 'user', roles: [] },
  impersonator: undefined,
  method: 'POST',
  route: '/x',
  status: 200,
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!isTenantryError(e)) throw e;
    return e.code;
  }
}

async function codeOfAsync(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (e) {
    if (!isTenantryError(e)) throw e;
    return e.code;
  }
}

describe('hostile inputs to the http helpers', () => {
  it('rejects non-string methods, statuses and hostnames with VALIDATION_FAILED', () => {
    for (const bad of [undefined, null, Number.NaN, Symbol('s'), {}, [1]]) {
      expect(codeOf(() => isMutatingMethod(bad as string))).toBe('VALIDATION_FAILED');
      expect(codeOf(() => subdomainTenant(bad as string, 'example.com'))).toBe('VALIDATION_FAILED');
      expect(codeOf(() => subdomainTenant('a.example.com', bad as string))).toBe('VALIDATION_FAILED');
    }
    for (const bad of [undefined, null, Symbol('s'), '200', {}]) {
      expect(codeOf(() => outcomeOfStatus(bad as number))).toBe('VALIDATION_FAILED');
    }
    expect(isMutatingMethod('x'.repeat(1_000_000))).toBe(false);
    expect(subdomainTenant('x'.repeat(1_000_000), 'example.com')).toBeUndefined();
  });

  it('rejects malformed request views, hints and named tenants', () => {
    const hints = TenantHintsSchema.parse({});
    for (const bad of HOSTILE) {
      expect(codeOf(() => namedTenants(bad as never, hints))).toBe('VALIDATION_FAILED');
      expect(codeOf(() => assertNamedTenantsAgree(undefined, bad as never))).toBe('VALIDATION_FAILED');
      expect(codeOf(() => assertNamedTenantsAgree(undefined, [bad] as never))).toBe('VALIDATION_FAILED');
    }
    const req = {
      method: 'GET',
      path: '/',
      header: () => undefined,
      query: () => undefined,
      hostname: undefined,
      ip: undefined,
    };
    for (const bad of [null, 1, {}, { header: Symbol('h') }]) {
      expect(codeOf(() => namedTenants(req, bad as never))).toBe('VALIDATION_FAILED');
    }
    expect(codeOf(() => assertNamedTenantsAgree(Symbol('t') as never, []))).toBe('VALIDATION_FAILED');
  });

  it('rejects malformed mask paths and keys, and keeps an own __proto__ key an own key', () => {
    for (const bad of [undefined, null, 'a.b', [Symbol('p')], [1]]) {
      expect(codeOf(() => maskBody({}, bad as never))).toBe('VALIDATION_FAILED');
    }
    expect(codeOf(() => maskBody({}, [], null as never))).toBe('VALIDATION_FAILED');
    const body = JSON.parse('{"__proto__":{"isAdmin":true},"password":"p"}') as object;
    const out = maskBody(body, ['__proto__.isAdmin']) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect((out as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    expect(out.password).toBe('[MASKED]');
    expect(({} as { isAdmin?: unknown }).isAdmin).toBeUndefined();
  });

  it('rejects malformed audit input and an invalid date', () => {
    const good = GOOD_AUDIT_INPUT as never;
    expect(requestAuditEvent(good, new Date()).action).toBe('http.post');
    for (const bad of HOSTILE) {
      expect(codeOf(() => requestAuditEvent(bad as never, new Date()))).toBe('VALIDATION_FAILED');
    }
    expect(codeOf(() => requestAuditEvent(good, new Date(Number.NaN)))).toBe('VALIDATION_FAILED');
    expect(
      codeOf(() => requestAuditEvent({ ...(good as object), method: Symbol('m') } as never, new Date())),
    ).toBe('VALIDATION_FAILED');
    expect(
      codeOf(() => requestAuditEvent({ ...(good as object), maskPaths: [1] } as never, new Date())),
    ).toBe('VALIDATION_FAILED');
  });

  it('recordRequest answers malformed input with a rejected promise (VALIDATION_FAILED), never a throw', async () => {
    const http = createHttpTenancy({
      auth: { key: { secret: 'x'.repeat(40) }, issuer: 'i', audience: 'a' },
      audit: { record: async () => undefined },
    });
    const good = GOOD_AUDIT_INPUT;
    await expect(http.recordRequest(good as never)).resolves.toBeUndefined();
    const bad: unknown[] = [...HOSTILE, { ...good, maskPaths: 5 }, { ...good, maskPaths: 'a.b' }];
    for (const input of bad) {
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = http.recordRequest(input as never);
      }).not.toThrow();
      expect(await codeOfAsync(() => pending as Promise<unknown>)).toBe('VALIDATION_FAILED');
    }
  });

  it('rejects malformed segment prefixes, policies, roles and actors', () => {
    for (const bad of [undefined, null, 'x', [1], { ops: 'operations' }, { '/ops': Symbol('s') }]) {
      expect(codeOf(() => createSegmentMap(bad as never))).toBe('VALIDATION_FAILED');
    }
    expect(codeOf(() => createSegmentMap({ '/ops': 'operations' }, {} as never))).toBe('VALIDATION_FAILED');
    for (const bad of [undefined, null, 'admin', [Symbol('r')], {}]) {
      expect(
        codeOf(() => assertRoles({ id: 'u', kind: 'user', roles: ['admin'] } as never, bad as never)),
      ).toBe('VALIDATION_FAILED');
    }
    expect(codeOf(() => assertRoles({} as never, ['admin']))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => assertRoles(undefined, ['admin']))).toBe('PERMISSION_DENIED');
  });

  it('rejects malformed readiness checks and timeouts', async () => {
    for (const bad of [undefined, null, 'x', [1]]) {
      expect(await codeOfAsync(() => checkReadiness(bad as never))).toBe('VALIDATION_FAILED');
    }
    for (const bad of [Number.NaN, -1, 0, '5']) {
      expect(await codeOfAsync(() => checkReadiness({}, bad as never))).toBe('VALIDATION_FAILED');
    }
    expect(await codeOfAsync(() => checkReadiness({ postgres: {} as never }))).toBe('VALIDATION_FAILED');
    expect(await codeOfAsync(() => checkReadiness({ custom: { a: 1 as never } }))).toBe('VALIDATION_FAILED');
    expect(await checkReadiness({ custom: { a: async () => 1 } })).toEqual({
      ready: true,
      checks: { a: 'up' },
    });
  });
});
