import { isTenantryError } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import {
  type RequestView,
  TenantHintsSchema,
  assertNamedTenantsAgree,
  namedTenants,
  subdomainTenant,
} from '../src/index.js';

const view = (
  over: Partial<{ headers: Record<string, string>; query: Record<string, string>; hostname: string }>,
): RequestView => ({
  method: 'GET',
  path: '/',
  header: (n) => over.headers?.[n],
  query: (n) => over.query?.[n],
  hostname: over.hostname,
  ip: '127.0.0.1',
});

describe('client-named tenants', () => {
  const hints = TenantHintsSchema.parse({ query: 'tenant', subdomainOf: 'app.example.com' });

  it('collects header, query and subdomain', () => {
    const named = namedTenants(
      view({ headers: { 'x-tenant-id': 'a' }, query: { tenant: 'b' }, hostname: 'c.app.example.com' }),
      hints,
    );
    expect(named).toEqual([
      { source: 'header', tenantId: 'a' },
      { source: 'query', tenantId: 'b' },
      { source: 'subdomain', tenantId: 'c' },
    ]);
    expect(subdomainTenant('x.y.app.example.com', 'app.example.com')).toBeUndefined();
    expect(subdomainTenant('app.example.com', 'app.example.com')).toBeUndefined();
    expect(subdomainTenant('evilapp.example.com', 'app.example.com')).toBeUndefined();
  });

  it('refuses a named tenant that is not the verified one, also for credentials without tenant', () => {
    expect(() => assertNamedTenantsAgree('acme', [{ source: 'header', tenantId: 'acme' }])).not.toThrow();
    // By core's T1 rule: another tenant than the credentials' is a conflict; credentials without a
    // tenant establish no context, so naming one with them is "named outside any context".
    for (const [verified, named, code] of [
      ['acme', 'globex', 'TENANT_CONTEXT_CONFLICT'],
      ['acme', '../globex', 'TENANT_CONTEXT_CONFLICT'],
      [undefined, 'acme', 'TENANT_CONTEXT_MISSING'],
    ] as const) {
      try {
        assertNamedTenantsAgree(verified, [{ source: 'header', tenantId: named }]);
        expect.unreachable();
      } catch (e) {
        expect(isTenantryError(e, code)).toBe(true);
      }
    }
  });

  it("speaks to the API client: the problem detail names the request's header, not runAsSystem", () => {
    const messageOf = (verified: string | undefined, source: 'header' | 'query', tenantId: string) => {
      try {
        assertNamedTenantsAgree(verified, [{ source, tenantId }]);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(messageOf('acme', 'header', 'globex')).toBe(
      "The tenant header names a tenant other than the token's",
    );
    expect(messageOf('acme', 'query', 'globex')).toBe(
      "The tenant query parameter names a tenant other than the token's",
    );
    expect(messageOf(undefined, 'header', 'acme')).not.toMatch(/runAs/);
  });
});
