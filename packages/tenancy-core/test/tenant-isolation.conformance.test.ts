// Invariant T1 against core's own public tenant-scoped operations (memory backends).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  MemoryAuditPort,
  MemoryNotificationPort,
  type PgPoolLike,
  createGatekeeper,
  createImpersonation,
  createQuotas,
  createTenantConfigCache,
  createTenantDirectory,
  createTenantKeys,
  defaultPlatformSettings,
  defineSettings,
  directConfigSource,
  requireTenantId,
  resolveTenantSettings,
  windowBounds,
} from '../src/index.js';
import { MemoryInvalidationBus, MemoryQuotaStore, MemoryTenantStore } from '../src/memory.js';
import { createTenantUnitOfWork } from '../src/postgres.js';
import { type TenantScopedOperation, tenantIsolationConformance } from '../src/testing.js';
import { asSystem } from './helpers.js';

const tenants = ['iso-a', 'iso-b'] as const;
const store = new MemoryTenantStore();
const bus = new MemoryInvalidationBus();
const directory = createTenantDirectory({ store, bus });
const cache = createTenantConfigCache({ store, bus });
await cache.start();
const settings = defineSettings({ 'exports.csv': { schema: z.boolean(), default: false } });
await asSystem(async () => {
  for (const id of tenants) {
    await directory.createTenant({ id, name: id });
    await directory.activateTenant(id);
  }
});
const quotas = createQuotas({
  store: new MemoryQuotaStore(),
  quotas: { emails: { window: 'day', defaultLimit: 1_000_000 } },
});
const gatekeeper = createGatekeeper({ config: cache });
const impersonation = createImpersonation({
  audit: new MemoryAuditPort(),
  notifications: new MemoryNotificationPort(),
});
// A stand-in pool: the unit of work's tenant resolution happens before any SQL.
const pool: PgPoolLike = {
  query: async () => ({ rows: [], rowCount: 0 }),
  connect: async () => ({
    query: async () =>
      ({
        rows: [{ role: 'app', rolsuper: false, rolbypassrls: false, escalates_to: null }],
        rowCount: 1,
        command: 'COMMIT',
      }) as never,
    release: () => undefined,
  }),
};
const uow = createTenantUnitOfWork(pool);

// APIs whose signature always names the tenant (directory methods by id) are called, for "omitted",
// with the context's tenant as application code would: requireTenantId() (TENANT_CONTEXT_MISSING outside).
const named = (t: string | undefined): string => t ?? requireTenantId();
const operations: TenantScopedOperation[] = [
  { name: 'directory.getTenant', call: (t) => directory.getTenant(t) },
  { name: 'directory.currentSubscription', call: (t) => directory.currentSubscription(t) },
  {
    name: 'directory.updateTenant',
    call: async (t) => directory.updateTenant(named(t), { settings: { 'ui.theme': 'dark' } }),
  },
  {
    name: 'directory.acceptTerms',
    call: async (t) =>
      directory.acceptTerms({ tenantId: named(t), userId: 'u-1', document: 'terms', version: '1' }),
  },
  { name: 'configCache.get', call: (t) => cache.get(t) },
  { name: 'directConfigSource.get', call: (t) => directConfigSource(store).get(t) },
  { name: 'quotas.consume', call: (t) => quotas.consume('emails', t === undefined ? {} : { tenantId: t }) },
  {
    name: 'quotas.tryConsume',
    call: (t) => quotas.tryConsume('emails', t === undefined ? {} : { tenantId: t }),
  },
  { name: 'quotas.usage', call: (t) => quotas.usage('emails', t === undefined ? {} : { tenantId: t }) },
  {
    name: 'quotas.refund',
    call: (t) =>
      quotas.refund('emails', {
        windowStart: new Date(windowBounds('day', Date.now()).start),
        ...(t === undefined ? {} : { tenantId: t }),
      }),
  },
  {
    name: 'resolveTenantSettings',
    call: async (t) => {
      const tenant = await store.getTenant(named(t));
      return resolveTenantSettings(settings, {
        tenant: tenant!,
        plan: null,
        platform: defaultPlatformSettings(),
      });
    },
  },
  {
    name: 'gatekeeper.check',
    call: (t) => gatekeeper.check({ ...(t === undefined ? {} : { tenantId: t }), actor: { id: 'u-1' } }),
  },
  { name: 'createTenantKeys', call: async (t) => createTenantKeys(t).cacheKey('x') },
  {
    name: 'impersonation.start',
    call: async (t) =>
      impersonation.start({
        support: { id: 'support-1', roles: ['SUPER_ADMIN'] },
        tenantId: named(t),
        target: { id: 'u-1', roles: ['USER'] },
        reason: 'Ticket #1: isolation suite',
      }),
  },
  {
    name: 'unitOfWork.run',
    call: (t) => uow.run(async () => 1, t === undefined ? {} : { tenantId: t }),
  },
];

describe('@tenantry/core', () =>
  tenantIsolationConformance(() => ({ tenants, operations }), { describe, it, expect }));
