import { trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
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

let configSource: 'direct' | 'cached';

async function setup(source: 'direct' | 'cached'): Promise<void> {
  configSource = source;
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
  // checkNow, the adapters' promise-free path: whenever it answers, it answers what check answers,
  // both before check (an entry a write invalidated must not answer) and after check reloaded it.
  const now = () => runAsTenant({ tenantId, actor }, () => gate.checkNow?.({ access }));
  const early = now();
  const d = await check(gate, { tenantId, actor, access });
  const late = now();
  if (early !== undefined) expect(early).toEqual(d);
  if (configSource === 'direct' || (!d.allowed && d.code === 'TENANT_NOT_FOUND')) {
    expect(late).toBeUndefined(); // nothing in memory to answer from
  } else {
    expect(late).toEqual(d);
    checkNowAnswers++;
  }
  return d.allowed ? (d.settleOnly ? 'ALLOWED_SETTLE_ONLY' : 'ALLOWED') : d.code;
}
let checkNowAnswers = 0;

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

describe('gatekeeper checkNow (the promise-free path)', () => {
  it('answered from the cache in the cases above, and never with a configuration read straight from the store', () => {
    // Set by `code`: the cached runs answered after every check that found the tenant.
    expect(checkNowAnswers).toBeGreaterThan(20);
  });

  it('validates like check, and resolves the tenant from the context (T1)', async () => {
    await setup('cached');
    const ask = (req: unknown) =>
      runAsTenant({ tenantId: 'acme', actor: user }, () => gate.checkNow?.(req as never));
    await check(gate, { tenantId: 'acme', actor: user, access: 'read' });
    expect(ask({ access: 'read' })).toMatchObject({ allowed: true });
    for (const bad of [{ access: 'READ' }, { access: 'read', tenantId: 'a:b' }, 'read', null]) {
      expect(() => ask(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
    }
    expect(() => gate.checkNow?.({ access: 'read' })).toThrow(
      expect.objectContaining({ code: 'TENANT_CONTEXT_MISSING' }),
    );
    expect(() =>
      runAsTenant({ tenantId: 'acme', actor: user }, () =>
        gate.checkNow?.({ access: 'read', tenantId: 'other' }),
      ),
    ).toThrow(expect.objectContaining({ code: 'TENANT_CONTEXT_CONFLICT' }));
  });

  it('leaves the decision to check when an OpenTelemetry SDK is installed (the span needs it)', async () => {
    await setup('cached');
    await check(gate, { tenantId: 'acme', actor: user, access: 'read' });
    const ask = () =>
      runAsTenant({ tenantId: 'acme', actor: user }, () => gate.checkNow?.({ access: 'read' }));
    expect(ask()).toMatchObject({ allowed: true });
    const provider = new BasicTracerProvider();
    trace.setGlobalTracerProvider(provider);
    try {
      expect(ask()).toBeUndefined();
    } finally {
      trace.disable();
    }
    expect(ask()).toMatchObject({ allowed: true });
  });

  it('with a bus between processes, answers only for eventual consistency: a strict read owes a barrier', async () => {
    const store = new MemoryTenantStore();
    const local = new MemoryInvalidationBus();
    // The same bus seen as one between processes: delivery not known to be synchronous.
    const remote = {
      publish: local.publish.bind(local),
      subscribe: local.subscribe.bind(local),
      sync: local.sync.bind(local),
    };
    const d = backOffice(createTenantDirectory({ store, bus: local }));
    await d.createTenant({ id: 'acme', name: 'Acme' });
    await d.activateTenant('acme');
    for (const consistency of ['strict', 'eventual'] as const) {
      const cache = createTenantConfigCache({ store, bus: remote, consistency });
      await cache.start();
      const g = createGatekeeper({ config: cache });
      await runAsTenant({ tenantId: 'acme', actor: user }, () => g.check({ access: 'read' }));
      const now = runAsTenant({ tenantId: 'acme', actor: user }, () => g.checkNow?.({ access: 'read' }));
      if (consistency === 'strict') expect(now).toBeUndefined();
      else expect(now).toMatchObject({ allowed: true });
      await cache.close();
    }
  });
});
