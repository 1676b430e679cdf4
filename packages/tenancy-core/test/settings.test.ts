import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createTenantDirectory,
  defineSettings,
  directConfigSource,
  isTenantryError,
  resolveTenantSettings,
} from '../src/index.js';
import { MemoryTenantStore } from '../src/memory.js';
import { asTenant, backOffice } from './helpers.js';

const settings = defineSettings({
  'exports.csv': { schema: z.boolean(), default: false },
  'users.max': { schema: z.number().int().min(1), default: 5 },
  'invoice.prefix': { schema: z.string().max(8), default: 'INV' },
  'ui.theme': { schema: z.enum(['light', 'dark']), default: 'light' },
});

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'RESOLVED';
  } catch (e) {
    return isTenantryError(e) ? e.code : `UNTYPED: ${String(e)}`;
  }
}

describe('settings and feature flags', () => {
  it('resolves default → global → plan → tenant, later layers winning, with the source of each value', () => {
    const r = settings.resolve({
      global: { 'ui.theme': 'dark', 'users.max': 10 },
      plan: { 'users.max': 25, 'exports.csv': true, 'not.a-setting': 1 },
      tenant: { 'users.max': 30 },
    });
    expect(r.toObject()).toEqual({
      'exports.csv': true,
      'users.max': 30,
      'invoice.prefix': 'INV',
      'ui.theme': 'dark',
    });
    expect(r.source('users.max')).toBe('tenant');
    expect(r.source('exports.csv')).toBe('plan');
    expect(r.source('ui.theme')).toBe('global');
    expect(r.source('invoice.prefix')).toBe('default');
    expect(r.isEnabled('exports.csv')).toBe(true);
    const max: number = r.get('users.max');
    expect(max).toBe(30);
  });

  it('skips a stored value that no longer fits its definition and reports the key, not the value', () => {
    const r = settings.resolve({ plan: { 'users.max': 20 }, tenant: { 'users.max': 'lots' } });
    expect(r.get('users.max')).toBe(20);
    expect(r.problems).toEqual([{ key: 'users.max', layer: 'tenant' }]);
  });

  it('refuses invalid and unknown values on write, through the directory', async () => {
    const directory = backOffice(createTenantDirectory({ store: new MemoryTenantStore(), settings }));
    await directory.createTenant({ id: 'acme', name: 'Acme' });
    expect(await codeOf(() => directory.updateTenant('acme', { settings: { 'users.max': 0 } }))).toBe(
      'SETTING_INVALID',
    );
    expect(await codeOf(() => directory.updateTenant('acme', { settings: { 'user.max': 3 } }))).toBe(
      'SETTING_UNKNOWN',
    );
    expect(await codeOf(() => directory.updatePlatformSettings({ values: { 'ui.theme': 'blue' } }))).toBe(
      'SETTING_INVALID',
    );
    expect(
      await codeOf(() => directory.putPlan({ id: 'pro', name: 'Pro', features: { 'exports.csv': 'yes' } })),
    ).toBe('SETTING_INVALID');
    // plan features that are not settings are allowed
    await directory.putPlan({ id: 'pro', name: 'Pro', features: { 'exports.csv': true, 'sla.hours': 4 } });
  });

  it('resolves a tenant from its stored configuration', () =>
    ((f) => asTenant('acme', f))(async () => {
      const store = new MemoryTenantStore();
      const directory = backOffice(createTenantDirectory({ store, settings }));
      await directory.updatePlatformSettings({ values: { 'invoice.prefix': 'GLB' } });
      await directory.putPlan({
        id: 'pro',
        name: 'Pro',
        features: { 'exports.csv': true, 'invoice.prefix': 'PRO' },
      });
      await directory.createTenant({ id: 'acme', name: 'Acme', settings: { 'invoice.prefix': 'ACME' } });
      await directory.startSubscription({ tenantId: 'acme', planId: 'pro' });
      const config = await directConfigSource(store).get('acme');
      const r = resolveTenantSettings(settings, config!);
      expect(r.get('invoice.prefix')).toBe('ACME');
      expect(r.isEnabled('exports.csv')).toBe(true);
      await directory.updateTenant('acme', { settings: {} });
      expect(
        resolveTenantSettings(settings, (await directConfigSource(store).get('acme'))!).get('invoice.prefix'),
      ).toBe('PRO');
    }));

  it('rejects definitions whose default does not fit, and unknown keys on read', async () => {
    expect(
      await codeOf(() =>
        defineSettings({ 'a.b': { schema: z.number(), default: 'x' as unknown as number } }),
      ),
    ).toBe('SETTING_INVALID');
    expect(await codeOf(() => defineSettings({ 'Bad Key': { schema: z.number(), default: 1 } }))).toBe(
      'SETTING_INVALID',
    );
    const r = settings.resolve({});
    expect(await codeOf(() => r.get('nope' as 'users.max'))).toBe('SETTING_UNKNOWN');
  });
});
