import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ActorInput,
  type Gatekeeper,
  CoreErrorCodes,
  type TenantDirectory,
  createGatekeeper,
  createTenantConfigCache,
  createTenantDirectory,
  directConfigSource,
  isTenantryError,
  runAsTenant,
} from '../src/index.js';
import { MemoryInvalidationBus, MemoryTenantStore } from '../src/memory.js';
import { backOffice } from './helpers.js';

const user: ActorInput = { id: 'u-1', roles: ['USER'] };
const admin: ActorInput = { id: 'a-1', roles: ['TENANT_ADMIN'] };
const superAdmin: ActorInput = { id: 's-1', roles: ['SUPER_ADMIN'] };
const service: ActorInput = { id: 'svc', roles: ['USER'], kind: 'service' };

let directory: TenantDirectory;
let gate: Gatekeeper;
let subId: string;

async function setup(source: 'direct' | 'cached'): Promise<void> {
  const store = new MemoryTenantStore();
  const bus = new MemoryInvalidationBus();
  directory = backOffice(createTenantDirectory({ store, bus }));
  const cache = createTenantConfigCache({ store, bus });
  await cache.start();
  const config = source === 'direct' ? directConfigSource(store) : cache;
  gate = createGatekeeper({ config, terms: { currentVersion: '2026-01' } });
  await directory.createTenant({ id: 'acme', name: 'Acme' });
  await directory.activateTenant('acme');
  await directory.putPlan({ id: 'pro', name: 'Pro' });
  subId = (await directory.startSubscription({ tenantId: 'acme', planId: 'pro', status: 'ACTIVE' })).id;
  for (const a of [user, admin, superAdmin]) {
    await directory.acceptTerms({ tenantId: 'acme', userId: a.id, version: '2026-01' });
  }
}

/** Ask as the gatekeeper is asked in production: inside the tenant's context, from the verified actor. */
function check(g: Gatekeeper, req: { tenantId: string; actor: ActorInput; access?: 'read' | 'write' }) {
  return runAsTenant({ tenantId: req.tenantId, actor: req.actor }, () =>
    g.check(req.access === undefined ? {} : { access: req.access }),
  );
}
function assertIn(g: Gatekeeper, req: { tenantId: string; actor: ActorInput }) {
  return runAsTenant({ tenantId: req.tenantId, actor: req.actor }, () => g.assert());
}

async function code(
  actor: ActorInput,
  access: 'read' | 'write' = 'write',
  tenantId = 'acme',
): Promise<string> {
  const d = await check(gate, { tenantId, actor, access });
  return d.allowed ? (d.settleOnly ? 'ALLOWED_SETTLE_ONLY' : 'ALLOWED') : d.code;
}

// The same decisions whether the configuration is read straight from the store or through the cache
// (whose entries, including terms acceptances, must be invalidated by every write).
describe.each(['direct', 'cached'] as const)('gatekeeper [%s config]', (source) => {
  beforeEach(() => setup(source));

  it('lets an ACTIVE, paid tenant in for reads and writes', async () => {
    expect(await code(user)).toBe('ALLOWED');
    expect(await code(user, 'read')).toBe('ALLOWED');
  });

  it('refuses unknown, provisioning, suspended and archived tenants for everyone, with distinct codes', async () => {
    expect(await code(user, 'read', 'nope')).toBe('TENANT_NOT_FOUND');
    await directory.createTenant({ id: 'newco', name: 'New' });
    expect(await code(superAdmin, 'read', 'newco')).toBe('TENANT_PROVISIONING');
    await directory.suspendTenant('acme');
    for (const a of [user, admin, superAdmin]) expect(await code(a, 'read')).toBe('TENANT_SUSPENDED');
    await directory.archiveTenant('acme');
    for (const a of [user, admin, superAdmin]) expect(await code(a, 'read')).toBe('TENANT_ARCHIVED');
  });

  it('refuses PAST_DUE and CANCELED subscriptions except for tenant admins, who may settle', async () => {
    await directory.transitionSubscription(subId, 'PAST_DUE');
    expect(await code(user, 'read')).toBe('SUBSCRIPTION_PAST_DUE');
    expect(await code(superAdmin, 'read')).toBe('SUBSCRIPTION_PAST_DUE');
    expect(await code(admin)).toBe('ALLOWED_SETTLE_ONLY');
    await directory.transitionSubscription(subId, 'CANCELED');
    expect(await code(user, 'read')).toBe('SUBSCRIPTION_CANCELED');
    expect(await code(admin, 'read')).toBe('ALLOWED_SETTLE_ONLY');
    await directory.startSubscription({ tenantId: 'acme', planId: 'pro', status: 'ACTIVE' });
    expect(await code(user)).toBe('ALLOWED');
  });

  it('requires a subscription only when configured', async () => {
    const store = new MemoryTenantStore();
    const d = backOffice(createTenantDirectory({ store }));
    await d.createTenant({ id: 'free', name: 'Free' });
    await d.activateTenant('free');
    const strict = createGatekeeper({ config: directConfigSource(store), requireSubscription: true });
    const lax = createGatekeeper({ config: directConfigSource(store) });
    expect(await check(strict, { tenantId: 'free', actor: user })).toMatchObject({
      allowed: false,
      code: 'SUBSCRIPTION_MISSING',
    });
    expect(await check(lax, { tenantId: 'free', actor: user })).toMatchObject({ allowed: true });
  });

  it('tells a user who has not accepted the current terms, naming the versions; service actors are exempt', async () => {
    const d = await check(gate, { tenantId: 'acme', actor: { id: 'u-2', roles: ['USER'] }, access: 'read' });
    expect(d).toMatchObject({
      allowed: false,
      code: 'TERMS_NOT_ACCEPTED',
      details: { currentVersion: '2026-01', acceptedVersion: null, document: 'terms-of-service' },
    });
    await directory.acceptTerms({ tenantId: 'acme', userId: 'u-2', version: '2025-06' });
    expect(await check(gate, { tenantId: 'acme', actor: { id: 'u-2', roles: ['USER'] } })).toMatchObject({
      code: 'TERMS_NOT_ACCEPTED',
      details: { acceptedVersion: '2025-06' },
    });
    await directory.acceptTerms({ tenantId: 'acme', userId: 'u-2', version: '2026-01' });
    expect(await code({ id: 'u-2', roles: ['USER'] })).toBe('ALLOWED');
    expect(await code(service)).toBe('ALLOWED');
  });

  it('maintenance refuses writes for all but SUPER_ADMIN; reads pass; global and tenant have distinct codes', async () => {
    await directory.updateTenant('acme', { maintenance: true });
    expect(await code(user)).toBe('MAINTENANCE_TENANT');
    expect(await code(admin)).toBe('MAINTENANCE_TENANT');
    expect(await code(user, 'read')).toBe('ALLOWED');
    expect(await code(superAdmin)).toBe('ALLOWED');
    await directory.updateTenant('acme', { maintenance: false });
    await directory.updatePlatformSettings({ maintenance: true });
    expect(await code(user)).toBe('MAINTENANCE_GLOBAL');
    expect(await code(admin)).toBe('MAINTENANCE_GLOBAL');
    expect(await code(user, 'read')).toBe('ALLOWED');
    expect(await code(superAdmin)).toBe('ALLOWED');
    // access defaults to write, so a caller that forgets is refused
    expect(await check(gate, { tenantId: 'acme', actor: user })).toMatchObject({
      code: 'MAINTENANCE_GLOBAL',
    });
  });

  it("a plain { access } request (the adapters' per-request shape) is read without zod; anything else is still validated", async () => {
    await directory.updateTenant('acme', { maintenance: true });
    const ask = (req: unknown) =>
      runAsTenant({ tenantId: 'acme', actor: user }, () => gate.check(req as never));
    expect(await ask({ access: 'read' })).toMatchObject({ allowed: true });
    expect(await ask({ access: 'write' })).toMatchObject({ code: 'MAINTENANCE_TENANT' });
    for (const bad of [
      { access: 'READ' },
      { access: 'read', tenantId: 'a:b' },
      { access: 'read', actor: { id: '' } },
    ]) {
      await expect(ask(bad), JSON.stringify(bad)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    await directory.updateTenant('acme', { maintenance: false });
  });

  it('assert throws a typed GatekeeperError with the same code', async () => {
    await directory.suspendTenant('acme');
    try {
      await assertIn(gate, { tenantId: 'acme', actor: user });
      expect.unreachable();
    } catch (e) {
      expect(isTenantryError(e, 'TENANT_SUSPENDED')).toBe(true);
    }
  });

  it('a thrown refusal answers with the status of its code in CoreErrorCodes', async () => {
    await directory.suspendTenant('acme');
    const e = await assertIn(gate, { tenantId: 'acme', actor: user }).catch((x: unknown) => x);
    expect(isTenantryError(e, 'TENANT_SUSPENDED') && [e.status, e.retryable]).toEqual([403, false]);
    expect(CoreErrorCodes.MAINTENANCE_GLOBAL).toEqual({ status: 503, retryable: true });
  });
});
