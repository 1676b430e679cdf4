import { describe, expect, it } from 'vitest';
import {
  IsolationSchema,
  NewTenantSchema,
  PlanInputSchema,
  SUBSCRIPTION_TRANSITIONS,
  TENANT_TRANSITIONS,
  createTenantDirectory,
  isTenantryError,
} from '../src/index.js';
import { MemoryTenantStore } from '../src/memory.js';
import { backOffice } from './helpers.js';

describe('model schemas', () => {
  it('a dedicated database is a reference name, never a connection string', () => {
    expect(IsolationSchema.safeParse({ mode: 'dedicated', databaseRef: 'eu-db-7' }).success).toBe(true);
    expect(
      IsolationSchema.safeParse({ mode: 'dedicated', databaseRef: 'postgres://app:secret@db/acme' }).success,
    ).toBe(false);
    expect(NewTenantSchema.parse({ id: 'acme', name: 'Acme' }).isolation).toEqual({ mode: 'shared' });
  });

  it('plans: quotas need a non-negative integer limit and a known window; features are JSON', () => {
    expect(
      PlanInputSchema.safeParse({
        id: 'pro',
        name: 'Pro',
        quotas: { 'emails.per-day': { limit: -1, window: 'day' } },
      }).success,
    ).toBe(false);
    expect(
      PlanInputSchema.safeParse({
        id: 'pro',
        name: 'Pro',
        quotas: { 'emails.per-day': { limit: 5, window: 'week' } },
      }).success,
    ).toBe(false);
    expect(
      PlanInputSchema.safeParse({ id: 'pro', name: 'Pro', features: { 'a.b': Number.NaN } }).success,
    ).toBe(false);
    expect(PlanInputSchema.safeParse({ id: 'pro', name: 'Pro', features: { 'a.b': () => 1 } }).success).toBe(
      false,
    );
  });

  it('refuses a configuration map over 64 KiB with VALIDATION_FAILED', async () => {
    const directory = backOffice(createTenantDirectory({ store: new MemoryTenantStore() }));
    try {
      await directory.createTenant({ id: 'big', name: 'Big', settings: { 'blob.data': 'x'.repeat(70_000) } });
      expect.unreachable();
    } catch (e) {
      expect(isTenantryError(e, 'VALIDATION_FAILED')).toBe(true);
      expect((e as Error).message).not.toContain('xxxx');
    }
  });

  it('state machines: final states have no way out; every target is a known state', () => {
    expect(TENANT_TRANSITIONS.ARCHIVED).toEqual([]);
    expect(SUBSCRIPTION_TRANSITIONS.CANCELED).toEqual([]);
    for (const targets of Object.values(TENANT_TRANSITIONS))
      for (const t of targets) expect(Object.keys(TENANT_TRANSITIONS)).toContain(t);
    for (const targets of Object.values(SUBSCRIPTION_TRANSITIONS))
      for (const t of targets) expect(Object.keys(SUBSCRIPTION_TRANSITIONS)).toContain(t);
  });
});
