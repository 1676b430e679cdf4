// Invariant T1 against @tenantry/http's own public API. No http function takes a tenant argument: the
// tenant of a request comes from its verified token, and the client may only *name* one (header). So
// the suite drives the request → context path the adapters run, mapped as follows:
//
// - the suite's ambient context stands for the request's verified credentials:
//   inside runAsTenant(A) → a token for tenant A; outside any context → a token without a tenant (no
//   tenant context, e.g. platform staff); inside runAsSystem → a token for the tenant named (the
//   back-office is handed credentials for the tenant it works on; the adapter's runAsTenant is then
//   entered from the system scope, which core allows);
// - the operation's `tenantId` is the client-named tenant (`x-tenant-id`), absent when undefined;
// - the operation is what an adapter does per request: authenticate → admit (segment guard, then the
//   gatekeeper in the tenant's context) → contextOf → runAsTenant(context, handler), with a handler
//   that needs the tenant (requireTenant) and checks it is the one the credentials carry.
import {
  MemoryAuditPort,
  TenantryError,
  createGatekeeper,
  createTenantDirectory,
  currentSystemScope,
  currentTenantContext,
  directConfigSource,
  noopAuditPort,
  requireTenant,
  runAsSystem,
  runAsTenant,
} from '@tenantry/core';
import { MemoryTenantStore } from '@tenantry/core/memory';
import { tenantIsolationConformance } from '@tenantry/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RequestView, createHttpTenancy } from '../src/index.js';
import { AUDIENCE, ISSUER, SECRET, mint } from './helpers.js';

const TENANTS = ['iso-a', 'iso-b'] as const;
const store = new MemoryTenantStore();

beforeAll(async () => {
  const directory = createTenantDirectory({ store });
  await runAsSystem(
    { actor: { id: 'seeder', kind: 'service' }, reason: 'test provisioning' },
    noopAuditPort,
    async () => {
      await directory.putPlan({ id: 'pro', name: 'Pro' });
      for (const id of TENANTS) {
        await directory.createTenant({ id, name: id });
        await directory.activateTenant(id);
        await directory.startSubscription({ tenantId: id, planId: 'pro', status: 'ACTIVE' });
      }
    },
  );
});

const http = createHttpTenancy({
  auth: { key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE },
  audit: new MemoryAuditPort(),
  gatekeeper: createGatekeeper({ config: directConfigSource(store) }),
});

function requestView(token: string, named: string | undefined): RequestView {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (named !== undefined) headers['x-tenant-id'] = named;
  return {
    method: 'POST',
    path: '/ops/items',
    header: (n) => headers[n],
    query: () => undefined,
    hostname: 'api.test',
    ip: '127.0.0.1',
  };
}

/** One request through the adapters' path; resolves with the tenant the handler acted for. */
async function serveRequest(named: string | undefined): Promise<string> {
  const credentialTenant = currentSystemScope() !== undefined ? named : currentTenantContext()?.tenantId;
  const token = await mint({ tenantId: credentialTenant ?? null, roles: ['USER'] });
  const identity = await http.authenticate(requestView(token, named));
  await http.admit(identity, 'POST', '/ops/items');
  const context = http.contextOf(identity, 'req-1');
  const handler = () => {
    const { tenantId } = requireTenant();
    if (tenantId !== credentialTenant) throw new TenantryError('ISOLATION_BROKEN', 'wrong tenant');
    return tenantId;
  };
  return context === undefined ? handler() : runAsTenant(context, handler);
}

describe('@tenantry/http', () => {
  tenantIsolationConformance(
    () => ({
      tenants: TENANTS,
      operations: [{ name: 'http request → tenant context', call: (tenantId) => serveRequest(tenantId) }],
    }),
    { describe, it, expect },
  );

  it('the request acts for the credentials’ tenant, named or not', async () => {
    for (const named of [undefined, TENANTS[0]]) {
      expect(await runAsTenant({ tenantId: TENANTS[0], actor: { id: 'u' } }, () => serveRequest(named))).toBe(
        TENANTS[0],
      );
    }
  });
});
