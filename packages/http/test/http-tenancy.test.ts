// The synchronous answers of the shared HTTP layer (authenticateNow, admitNow): the adapters' fast
// path for a cached token and no gatekeeper must make the same decisions as the promise path.
import {
  ManualClock,
  MemoryAuditPort,
  createGatekeeper,
  createTenantConfigCache,
  createTenantDirectory,
  directConfigSource,
  isTenantryError,
  noopAuditPort,
  runAsSystem,
} from '@tenantry/core';
import { MemoryInvalidationBus, MemoryTenantStore } from '@tenantry/core/memory';
import { describe, expect, it } from 'vitest';
import {
  type HttpTenancyOptions,
  type RequestView,
  createHttpTenancy,
  createTokenVerifier,
} from '../src/index.js';
import { AUDIENCE, ISSUER, SECRET, mint } from './helpers.js';

const AUTH = { key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE };

function view(headers: Record<string, string>, path = '/ops/items'): RequestView {
  return {
    method: 'GET',
    path,
    header: (n) => headers[n],
    query: () => undefined,
    hostname: 'api.test',
    ip: '127.0.0.1',
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (e) {
    return isTenantryError(e) ? e.code : `RAW:${(e as Error).message}`;
  }
}

const tenancy = (over: Partial<HttpTenancyOptions> = {}) =>
  createHttpTenancy({ auth: AUTH, audit: new MemoryAuditPort(), ...over });

describe('authenticateNow', () => {
  it('answers a token only once it was verified, with the identity authenticate gives', async () => {
    const http = tenancy();
    const token = await mint({ tenantId: 'acme', sub: 'u-1', act: { sub: 'support-1' } });
    const req = view({ authorization: `Bearer ${token}` });
    expect(http.authenticateNow(req)).toBeUndefined();
    const identity = await http.authenticate(req);
    expect(http.authenticateNow(req)).toEqual(identity);
    expect(identity).toMatchObject({ tenantId: 'acme', actor: { id: 'u-1' }, tenantFromClient: false });
    expect(identity.impersonator?.id).toBe('support-1');
  });

  it('refuses a client-named tenant other than the cached token’s (T2), and bad or missing credentials, by throwing', async () => {
    const http = tenancy();
    const token = await mint({ tenantId: 'acme' });
    await http.authenticate(view({ authorization: `Bearer ${token}` }));
    expect(
      codeOf(() => http.authenticateNow(view({ authorization: `Bearer ${token}`, 'x-tenant-id': 'globex' }))),
    ).toBe('TENANT_CONTEXT_CONFLICT');
    expect(
      codeOf(() => http.authenticateNow(view({ authorization: `Bearer ${token}`, 'x-tenant-id': '../x' }))),
    ).toBe('TENANT_CONTEXT_CONFLICT');
    expect(
      http.authenticateNow(view({ authorization: `Bearer ${token}`, 'x-tenant-id': 'acme' }))?.tenantId,
    ).toBe('acme');
    expect(codeOf(() => http.authenticateNow(view({})))).toBe('HTTP_TOKEN_MISSING');
    expect(codeOf(() => http.authenticateNow(view({ authorization: 'Basic dTpw' })))).toBe(
      'HTTP_TOKEN_INVALID',
    );
    // Platform credentials (no tenant) cannot name one on the fast path either.
    const staff = await mint({ tenantId: null, roles: ['SUPER_ADMIN'] });
    await http.authenticate(view({ authorization: `Bearer ${staff}` }));
    expect(
      codeOf(() => http.authenticateNow(view({ authorization: `Bearer ${staff}`, 'x-tenant-id': 'acme' }))),
    ).toBe('TENANT_CONTEXT_MISSING');
  });

  it('stops answering an expired token; authenticate then refuses it', async () => {
    const clock = new ManualClock(new Date());
    const http = tenancy({ auth: { ...AUTH, clockToleranceSec: 0 }, clock });
    const token = await mint({ expiresIn: '30s' });
    const req = view({ authorization: `Bearer ${token}` });
    await http.authenticate(req);
    expect(http.authenticateNow(req)?.tenantId).toBe('acme');
    clock.advance(31_000);
    expect(http.authenticateNow(req)).toBeUndefined();
    await expect(http.authenticate(req)).rejects.toMatchObject({ code: 'HTTP_TOKEN_EXPIRED' });
  });

  it('leaves a verifier without peek to authenticate', async () => {
    const inner = createTokenVerifier(AUTH);
    const http = tenancy({ auth: { verify: (t) => inner.verify(t), cached: 0 } });
    const req = view({ authorization: `Bearer ${await mint()}` });
    await http.authenticate(req);
    expect(http.authenticateNow(req)).toBeUndefined();
  });

  it('answers the trusted resolver’s tenant for a request without token, still checking named tenants', () => {
    const http = tenancy({
      untrustedClientTenant: { acknowledge: 'the client chooses the tenant', resolve: () => 'acme' },
    });
    expect(http.authenticateNow(view({}))).toMatchObject({ tenantId: 'acme', tenantFromClient: true });
    expect(codeOf(() => http.authenticateNow(view({ 'x-tenant-id': 'globex' })))).toBe(
      'TENANT_CONTEXT_CONFLICT',
    );
  });
});

describe('admitNow', () => {
  it('answers the segment guard at once when no gatekeeper is configured', async () => {
    const http = tenancy();
    const user = await http.authenticate(
      view({ authorization: `Bearer ${await mint({ roles: ['USER'] })}` }),
    );
    expect(http.admitNow(user, 'POST', '/ops/items')).toEqual({ settleOnly: false });
    expect(codeOf(() => http.admitNow(user, 'GET', '/sys-mgt/tenants'))).toBe('PERMISSION_DENIED');
  });

  it('guards every spelling of a segment path that a router may send to its routes', async () => {
    const http = tenancy();
    const user = await http.authenticate(
      view({ authorization: `Bearer ${await mint({ roles: ['USER'] })}` }),
    );
    // Express routes ignore case by default, Fastify can ignore duplicate slashes, and a `;` can end
    // a path segment (Fastify's useSemicolonDelimiter): each is still the system segment.
    for (const path of [
      '/SYS-MGT/tenants',
      '/Sys-Mgt/tenants',
      '/sys-MGT',
      '//sys-mgt/tenants',
      '/sys-mgt//tenants',
      '/sys-mgt/',
      '/sys-mgt;v=1',
      // Fastify decodes escapes before it picks a route.
      '/%73ys-mgt/tenants',
      '/sys%2Dmgt/tenants',
      '/SYS%2dMGT',
      '/%2573ys-mgt/tenants',
      '/%2Fsys-mgt/tenants',
      '/sys-mgt%2Ftenants',
    ]) {
      expect([path, codeOf(() => http.admitNow(user, 'GET', path))]).toEqual([path, 'PERMISSION_DENIED']);
      expect(http.segments.segmentOf(path)).toBe('system');
    }
    // Its neighbours are not in it.
    for (const path of ['/sys-mgtx', '/sys', '/ops/sys-mgt', '/', '/sys-mgt%78', '/%E0%A4%A', '/%zz']) {
      expect([path, http.segments.segmentOf(path)]).not.toEqual([path, 'system']);
    }
    expect(http.segments.segmentOf('/OPS/items')).toBe('operations');
  });

  it('refuses segment prefixes that differ only in case', () => {
    expect(codeOf(() => tenancy({ segments: { '/ops': 'operations', '/OPS': 'system' } }))).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('leaves a tenant’s request to admit when a gatekeeper must decide', async () => {
    const store = new MemoryTenantStore();
    const directory = createTenantDirectory({ store });
    await runAsSystem(
      { actor: { id: 'seeder', kind: 'service' }, reason: 'test provisioning' },
      noopAuditPort,
      async () => {
        await directory.createTenant({ id: 'umbrella', name: 'Umbrella' });
        await directory.activateTenant('umbrella');
        await directory.suspendTenant('umbrella');
      },
    );
    const http = tenancy({ gatekeeper: createGatekeeper({ config: directConfigSource(store) }) });
    const suspended = await http.authenticate(
      view({ authorization: `Bearer ${await mint({ tenantId: 'umbrella' })}` }),
    );
    expect(http.admitNow(suspended, 'GET', '/ops/items')).toBeUndefined();
    await expect(http.admit(suspended, 'GET', '/ops/items')).rejects.toMatchObject({
      code: 'TENANT_SUSPENDED',
    });
    // Without a tenant there is nothing for the gatekeeper to check.
    const staff = await http.authenticate(
      view({ authorization: `Bearer ${await mint({ tenantId: null, roles: ['SUPER_ADMIN'] })}` }),
    );
    expect(http.admitNow(staff, 'GET', '/sys-mgt/tenants')).toEqual({ settleOnly: false });
  });

  it('answers from a started config cache what admit answers: admissions, refusals, settle-only limits', async () => {
    const store = new MemoryTenantStore();
    const bus = new MemoryInvalidationBus();
    const directory = createTenantDirectory({ store, bus });
    let subscription = '';
    const system = (fn: () => Promise<unknown>) =>
      runAsSystem(
        { actor: { id: 'seeder', kind: 'service' }, reason: 'test provisioning' },
        noopAuditPort,
        fn,
      );
    await system(async () => {
      await directory.putPlan({ id: 'pro', name: 'Pro' });
      await directory.createTenant({ id: 'umbrella', name: 'Umbrella' });
      await directory.activateTenant('umbrella');
      subscription = (
        await directory.startSubscription({ tenantId: 'umbrella', planId: 'pro', status: 'ACTIVE' })
      ).id;
    });
    const cache = createTenantConfigCache({ store, bus });
    await cache.start();
    const http = tenancy({
      gatekeeper: createGatekeeper({ config: cache }),
      settleOnlyPaths: ['/back-office/billing'],
    });
    const identity = async (roles: string[]) =>
      http.authenticate(view({ authorization: `Bearer ${await mint({ tenantId: 'umbrella', roles })}` }));
    const user = await identity(['USER']);
    const admin = await identity(['TENANT_ADMIN']);
    // Either answer as a string: the admission, or the refusal's code.
    const outcome = async (fn: () => unknown): Promise<string> => {
      try {
        return JSON.stringify(await fn());
      } catch (e) {
        return isTenantryError(e) ? e.code : 'UNTYPED';
      }
    };
    const both = async (who: typeof user, method: string, path: string) => {
      const later = await outcome(() => http.admit(who, method, path));
      const now = await outcome(() => http.admitNow(who, method, path));
      return { later, now };
    };
    expect(http.admitNow(user, 'GET', '/ops/items')).toBeUndefined(); // nothing cached yet
    expect(await both(user, 'POST', '/ops/items')).toEqual({
      later: '{"settleOnly":false}',
      now: '{"settleOnly":false}',
    });
    await system(() => directory.transitionSubscription(subscription, 'PAST_DUE'));
    expect(http.admitNow(user, 'GET', '/ops/items')).toBeUndefined(); // the write invalidated the entry
    expect(await both(user, 'GET', '/ops/items')).toEqual({
      later: 'SUBSCRIPTION_PAST_DUE',
      now: 'SUBSCRIPTION_PAST_DUE',
    });
    expect(await both(admin, 'GET', '/back-office/billing/invoices')).toEqual({
      later: '{"settleOnly":true}',
      now: '{"settleOnly":true}',
    });
    expect(await both(admin, 'GET', '/ops/items')).toEqual({
      later: 'SUBSCRIPTION_PAST_DUE',
      now: 'SUBSCRIPTION_PAST_DUE',
    });
    await system(() => directory.suspendTenant('umbrella'));
    expect(await both(admin, 'GET', '/back-office/billing/invoices')).toEqual({
      later: 'TENANT_SUSPENDED',
      now: 'TENANT_SUSPENDED',
    });
    await cache.close();
  });
});
