import { describe, expect, it } from 'vitest';
import {
  MemoryAuditPort,
  MemoryInvalidationBus,
  MemoryTenantStore,
  createTenantConfigCache,
  createTenantDirectory,
  directConfigSource,
  isTenantryError,
  runAsSystem,
  runAsTenant,
} from '../src/index.js';

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'RESOLVED';
  } catch (e) {
    return isTenantryError(e) ? e.code : `UNTYPED: ${String(e)}`;
  }
}

describe('T1 for the directory and configuration reads', () => {
  it('inside a tenant context: only that tenant, no platform-wide changes; runAsSystem may cross', async () => {
    const store = new MemoryTenantStore();
    const bus = new MemoryInvalidationBus();
    const directory = createTenantDirectory({ store, bus });
    const cache = createTenantConfigCache({ store, bus });
    await cache.start();
    await directory.createTenant({ id: 'acme', name: 'Acme' });
    await directory.createTenant({ id: 'globex', name: 'Globex' });
    await directory.putPlan({ id: 'pro', name: 'Pro' });
    const sub = await directory.startSubscription({ tenantId: 'globex', planId: 'pro' });
    const acme = { tenantId: 'acme', actor: { id: 'a1', roles: ['TENANT_ADMIN'] } };

    await runAsTenant(acme, async () => {
      // its own tenant: allowed
      await directory.updateTenant('acme', { settings: { 'ui.theme': 'dark' } });
      expect((await cache.get('acme'))?.tenant.id).toBe('acme');
      // another tenant, or platform-wide: refused
      expect(await codeOf(() => directory.activateTenant('globex'))).toBe('TENANT_CONTEXT_CONFLICT');
      expect(await codeOf(() => directory.updateTenant('globex', { maintenance: true }))).toBe(
        'TENANT_CONTEXT_CONFLICT',
      );
      expect(await codeOf(() => directory.transitionSubscription(sub.id, 'ACTIVE'))).toBe(
        'TENANT_CONTEXT_CONFLICT',
      );
      expect(
        await codeOf(() => directory.acceptTerms({ tenantId: 'globex', userId: 'a1', version: '1' })),
      ).toBe('TENANT_CONTEXT_CONFLICT');
      expect(await codeOf(() => directory.putPlan({ id: 'free', name: 'Free' }))).toBe(
        'TENANT_CONTEXT_CONFLICT',
      );
      expect(await codeOf(() => directory.updatePlatformSettings({ maintenance: true }))).toBe(
        'TENANT_CONTEXT_CONFLICT',
      );
      expect(await codeOf(() => cache.get('globex'))).toBe('TENANT_CONTEXT_CONFLICT');
      expect(await codeOf(() => directConfigSource(store).get('globex'))).toBe('TENANT_CONTEXT_CONFLICT');
    });
    expect((await store.getTenant('globex'))?.status).toBe('PROVISIONING');
    expect((await store.getSubscription(sub.id))?.status).toBe('TRIAL');

    const audit = new MemoryAuditPort();
    await runAsSystem(
      { actor: { id: 'ops', roles: ['SUPER_ADMIN'] }, reason: 'onboarding globex' },
      audit,
      () => directory.activateTenant('globex'),
    );
    expect((await store.getTenant('globex'))?.status).toBe('ACTIVE');
  });
});
