import { randomBytes } from 'node:crypto';
import { runAsSystem } from '../kernel/context.js';
import { MemoryAuditPort } from '../kernel/ports/audit-port.js';
import type { TenancyEvent } from '../platform/model/events.js';
import type { Plan } from '../platform/model/plan.js';
import type { Subscription } from '../platform/model/subscription.js';
import type { Tenant } from '../platform/model/tenant.js';
import type { TenantStore } from '../platform/stores/tenant-store.js';
import { createTenantDirectory } from '../platform/tenant-directory.js';
import { settledCode } from './settled-code.js';
import type { SuiteApi } from './suite-api.js';

/**
 * What {@link tenantStoreConformance} needs from a backend: the store under test, ready to use.
 *
 * Harness contract: the suite calls the harness once per test, at its start, and uses that store for
 * the whole test. The harness may return a fresh store each time (`() => ({ store: new MyStore() })`)
 * or a shared one: tests use unique ids and never rely on another test's state. (A shared store must
 * have `platform settings` that any test may change: the platform-settings test reads before it writes.)
 */
export interface TenantStoreHarness {
  /** The store under test. */
  store: TenantStore;
}

const uid = (p: string): string => `${p}-${randomBytes(5).toString('hex')}`;
const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

function tenant(id: string, extra: Partial<Tenant> = {}): Tenant {
  return {
    id,
    name: `Tenant ${id}`,
    partnerId: null,
    isolation: { mode: 'shared' },
    settings: {},
    status: 'PROVISIONING',
    maintenance: false,
    version: 1,
    createdAt: at(1),
    updatedAt: at(1),
    statusChangedAt: at(1),
    ...extra,
  };
}
function plan(id: string, extra: Partial<Plan> = {}): Plan {
  return { id, name: `Plan ${id}`, quotas: {}, features: {}, version: 1, updatedAt: at(2), ...extra };
}
function subscription(
  id: string,
  tenantId: string,
  planId: string,
  extra: Partial<Subscription> = {},
): Subscription {
  return {
    id,
    tenantId,
    planId,
    status: 'TRIAL',
    periodEndsAt: null,
    version: 1,
    createdAt: at(3),
    updatedAt: at(3),
    ...extra,
  };
}
const codeOf = settledCode;
const audit = new MemoryAuditPort();
/** The directory is back-office code: its operations run inside the audited system scope. */
const asSystem = <R>(fn: () => Promise<R>): Promise<R> =>
  runAsSystem(
    { actor: { id: 'conformance', kind: 'service' }, reason: 'tenant store conformance' },
    audit,
    fn,
  );

/**
 * The contract every {@link TenantStore} must meet. Runner-neutral: pass your runner's
 * `{ describe, it, expect }` (see `SuiteApi`).
 * @example
 * import { describe, expect, it } from 'vitest';
 * import { tenantStoreConformance } from '@tenantry/core/testing';
 * describe('my store', () => tenantStoreConformance(() => ({ store: new MyTenantStore() }), { describe, it, expect }));
 */
export function tenantStoreConformance(harness: () => TenantStoreHarness, api: SuiteApi): void {
  const { describe, it, expect } = api;

  describe('partners', () => {
    it('creates, reads and lists partners; a duplicate id is ALREADY_EXISTS', async () => {
      const { store } = harness();
      const id = uid('p');
      const created = await store.createPartner({
        id,
        name: 'Iberia Resellers',
        kind: 'RESELLER',
        attributes: { region: 'eu-south', tiers: [1, 2] },
        createdAt: at(5),
      });
      expect(await store.getPartner(id)).toEqual(created);
      expect((await store.listPartners()).map((p) => p.id)).toContain(id);
      expect(await codeOf(store.createPartner({ ...created, name: 'other' }))).toBe('ALREADY_EXISTS');
      expect((await store.getPartner(id))?.name).toBe('Iberia Resellers');
      expect(await store.getPartner(uid('none'))).toBeNull();
    });
  });

  describe('tenants', () => {
    it('round-trips every field, including dedicated isolation and JSON overrides', async () => {
      const { store } = harness();
      const partnerId = uid('p');
      await store.createPartner({
        id: partnerId,
        name: 'Op',
        kind: 'REGIONAL_OPERATOR',
        attributes: {},
        createdAt: at(1),
      });
      const t = tenant(uid('t'), {
        partnerId,
        isolation: { mode: 'dedicated', databaseRef: 'eu-db-7' },
        settings: { 'invoice.prefix': 'ACME', 'limits.nested': { a: [1, 'x', null, true] } },
        maintenance: true,
      });
      expect(await store.createTenant(t)).toEqual(t);
      const read = await store.getTenant(t.id);
      expect(read).toEqual(t);
      read!.settings['invoice.prefix'] = 'MUTATED';
      expect((await store.getTenant(t.id))?.settings['invoice.prefix']).toBe('ACME');
    });

    it('refuses a duplicate id (ALREADY_EXISTS) and an unknown partner (REFERENCE_NOT_FOUND)', async () => {
      const { store } = harness();
      const t = tenant(uid('t'));
      await store.createTenant(t);
      expect(await codeOf(store.createTenant({ ...t, name: 'again' }))).toBe('ALREADY_EXISTS');
      expect(await codeOf(store.createTenant(tenant(uid('t'), { partnerId: uid('ghost') })))).toBe(
        'REFERENCE_NOT_FOUND',
      );
      expect(await codeOf(store.replaceTenant({ ...t, partnerId: uid('ghost'), version: 2 }, 1))).toBe(
        'REFERENCE_NOT_FOUND',
      );
    });

    it('lists by partner, by missing partner and by status, ordered by id', async () => {
      const { store } = harness();
      const partnerId = uid('p');
      await store.createPartner({
        id: partnerId,
        name: 'R',
        kind: 'RESELLER',
        attributes: {},
        createdAt: at(1),
      });
      const ids = [uid('b'), uid('a'), uid('c')];
      await store.createTenant(tenant(ids[0]!, { partnerId }));
      await store.createTenant(tenant(ids[1]!, { partnerId, status: 'ACTIVE' }));
      await store.createTenant(tenant(ids[2]!));
      expect((await store.listTenants({ partnerId })).map((t) => t.id)).toEqual([ids[1], ids[0]]);
      expect((await store.listTenants({ partnerId, status: 'ACTIVE' })).map((t) => t.id)).toEqual([ids[1]]);
      const direct = (await store.listTenants({ partnerId: null })).map((t) => t.id);
      expect(direct).toContain(ids[2]);
      expect(direct).not.toContain(ids[0]);
    });

    it('pages through tenants by id in byte order (keyset: after + limit)', async () => {
      const { store } = harness();
      const partnerId = uid('p');
      await store.createPartner({
        id: partnerId,
        name: 'Pager',
        kind: 'RESELLER',
        attributes: {},
        createdAt: at(1),
      });
      const ids = ['Zeta', 'alpha', 'Beta', 'b.2', 'b-1', '9lives'].map((x) => `${partnerId}-${x}`);
      for (const id of ids) await store.createTenant(tenant(id, { partnerId }));
      const expected = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.listTenants({
          partnerId,
          limit: 4,
          ...(after === undefined ? {} : { after }),
        });
        seen.push(...page.map((t) => t.id));
        if (page.length < 4) break;
        after = page[page.length - 1]!.id;
      }
      expect(seen).toEqual(expected);
    });

    it('replaceTenant is a conditional write: a stale version writes nothing and returns null', async () => {
      const { store } = harness();
      const t = await store.createTenant(tenant(uid('t')));
      const v2 = await store.replaceTenant({ ...t, status: 'ACTIVE', version: 2, updatedAt: at(9) }, 1);
      expect(v2?.version).toBe(2);
      expect(await store.replaceTenant({ ...t, name: 'stale', version: 2 }, 1)).toBeNull();
      expect(await store.getTenant(t.id)).toEqual(v2);
      expect(await codeOf(store.replaceTenant(tenant(uid('missing'), { version: 2 }), 1))).toBe('NOT_FOUND');
    });

    it('of 12 concurrent conditional writers holding the same version, exactly one wins', async () => {
      const { store } = harness();
      const t = await store.createTenant(tenant(uid('t'), { status: 'ACTIVE' }));
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.replaceTenant({ ...t, name: `writer-${i}`, version: 2, updatedAt: at(10 + i) }, 1),
        ),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect((await store.getTenant(t.id))?.name).toBe(winners[0]!.name);
    });
  });

  describe('plans', () => {
    it('stores quotas and features as JSON, replaces on put, lists by id', async () => {
      const { store } = harness();
      const id = uid('plan');
      const p = plan(id, {
        quotas: { 'emails.per-day': { limit: 1000, window: 'day' } },
        features: { 'exports.csv': true, 'users.max': 25, 'theme.colors': ['red', 'blue'] },
      });
      expect(await store.putPlan(p)).toEqual(p);
      expect(await store.getPlan(id)).toEqual(p);
      const p2 = { ...p, features: { 'exports.csv': false }, version: 2, updatedAt: at(30) };
      await store.putPlan(p2);
      expect(await store.getPlan(id)).toEqual(p2);
      expect((await store.listPlans()).filter((x) => x.id === id)).toHaveLength(1);
    });
  });

  describe('subscriptions', () => {
    it('checks references and keeps at most one live subscription per tenant', async () => {
      const { store } = harness();
      const t = await store.createTenant(tenant(uid('t')));
      const p = await store.putPlan(plan(uid('plan')));
      expect(await codeOf(store.createSubscription(subscription(uid('s'), uid('ghost'), p.id)))).toBe(
        'REFERENCE_NOT_FOUND',
      );
      expect(await codeOf(store.createSubscription(subscription(uid('s'), t.id, uid('ghost'))))).toBe(
        'REFERENCE_NOT_FOUND',
      );
      const first = await store.createSubscription(subscription(uid('s'), t.id, p.id));
      expect(await store.getSubscription(first.id)).toEqual(first);
      expect(await codeOf(store.createSubscription(subscription(uid('s'), t.id, p.id)))).toBe(
        'ALREADY_EXISTS',
      );
      expect(await codeOf(store.createSubscription({ ...first }))).toBe('ALREADY_EXISTS');
      expect(await store.currentSubscription(t.id)).toEqual(first);

      const canceled = await store.replaceSubscription({ ...first, status: 'CANCELED', version: 2 }, 1);
      expect(canceled?.status).toBe('CANCELED');
      expect(await store.currentSubscription(t.id)).toEqual(canceled);
      const second = await store.createSubscription(
        subscription(uid('s'), t.id, p.id, { createdAt: at(40), updatedAt: at(40), status: 'ACTIVE' }),
      );
      expect(await store.currentSubscription(t.id)).toEqual(second);
      expect(await store.currentSubscription(uid('nobody'))).toBeNull();
    });

    it('replaceSubscription is conditional; concurrent writers: exactly one wins', async () => {
      const { store } = harness();
      const t = await store.createTenant(tenant(uid('t')));
      const p = await store.putPlan(plan(uid('plan')));
      const s = await store.createSubscription(subscription(uid('s'), t.id, p.id));
      const results = await Promise.all(
        (['ACTIVE', 'PAST_DUE', 'CANCELED', 'ACTIVE', 'CANCELED', 'PAST_DUE'] as const).map((status) =>
          store.replaceSubscription({ ...s, status, version: 2 }, 1),
        ),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect(await codeOf(store.replaceSubscription(subscription(uid('x'), t.id, p.id), 1))).toBe(
        'NOT_FOUND',
      );
    });
  });

  describe('agreements', () => {
    it('returns the latest acceptance per user and document; re-accepting keeps the first time', async () => {
      const { store } = harness();
      const t = await store.createTenant(tenant(uid('t')));
      const base = { tenantId: t.id, userId: 'u-1', document: 'terms-of-service' };
      await store.recordAgreement({ ...base, version: '2025-06', acceptedAt: at(10) });
      await store.recordAgreement({ ...base, version: '2026-01', acceptedAt: at(20) });
      const again = await store.recordAgreement({ ...base, version: '2026-01', acceptedAt: at(50) });
      expect(again.acceptedAt).toEqual(at(20));
      expect(await store.latestAgreement(t.id, 'u-1', 'terms-of-service')).toEqual({
        ...base,
        version: '2026-01',
        acceptedAt: at(20),
      });
      expect(await store.latestAgreement(t.id, 'u-2', 'terms-of-service')).toBeNull();
      expect(await store.latestAgreement(t.id, 'u-1', 'privacy-policy')).toBeNull();
    });
  });

  describe('platform settings', () => {
    it('starts at version 0 and moves only by conditional writes', async () => {
      const { store } = harness();
      const before = await store.getPlatformSettings();
      const next = {
        values: { 'ui.theme': 'dark' },
        maintenance: true,
        version: before.version + 1,
        updatedAt: at(7),
      };
      const results = await Promise.all([
        store.replacePlatformSettings(next, before.version),
        store.replacePlatformSettings({ ...next, maintenance: false }, before.version),
        store.replacePlatformSettings({ ...next, values: {} }, before.version),
      ]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      const now = await store.getPlatformSettings();
      expect(now.version).toBe(before.version + 1);
      expect(
        await store.replacePlatformSettings({ ...next, version: now.version + 1 }, before.version),
      ).toBeNull();
    });
  });

  describe('directory over this store', () => {
    it('walks the tenant lifecycle, refuses illegal moves with ILLEGAL_TRANSITION and emits one event per move', () =>
      asSystem(async () => {
        const { store } = harness();
        const directory = createTenantDirectory({ store });
        const events: Array<Extract<TenancyEvent, { type: 'tenant.transitioned' }>> = [];
        directory.on('tenant.transitioned', (e) => {
          events.push(e);
        });
        const id = uid('t');
        await directory.createTenant({
          id,
          name: 'Acme',
          isolation: { mode: 'dedicated', databaseRef: 'db-acme' },
        });
        expect(await codeOf(directory.suspendTenant(id))).toBe('ILLEGAL_TRANSITION');
        await directory.activateTenant(id);
        expect(await codeOf(directory.archiveTenant(id))).toBe('ILLEGAL_TRANSITION');
        await directory.suspendTenant(id, { reason: 'payment overdue' });
        await directory.resumeTenant(id);
        await directory.suspendTenant(id);
        const archived = await directory.archiveTenant(id);
        expect(archived.status).toBe('ARCHIVED');
        expect(archived.isolation).toEqual({ mode: 'dedicated', databaseRef: 'db-acme' });
        expect(await codeOf(directory.resumeTenant(id))).toBe('ILLEGAL_TRANSITION');
        expect(events.map((e) => `${e.from}>${e.to}`)).toEqual([
          'PROVISIONING>ACTIVE',
          'ACTIVE>SUSPENDED',
          'SUSPENDED>ACTIVE',
          'ACTIVE>SUSPENDED',
          'SUSPENDED>ARCHIVED',
        ]);
        expect(events[1]).toMatchObject({ reason: 'payment overdue' });
      }));

    it('conflicting concurrent transitions: exactly one applies, the others fail typed, one event', () =>
      asSystem(async () => {
        const { store } = harness();
        const directory = createTenantDirectory({ store });
        const events: Array<Extract<TenancyEvent, { type: 'tenant.transitioned' }>> = [];
        directory.on('*', (e) => {
          if (e.type === 'tenant.transitioned') events.push(e);
        });
        const id = uid('t');
        await directory.createTenant({ id, name: 'Race' });
        await directory.activateTenant(id);
        await directory.suspendTenant(id);
        events.length = 0;
        // From SUSPENDED, "resume" and "archive" conflict: after either, the other is illegal.
        const attempts = Array.from({ length: 10 }, (_, i) =>
          i % 2 === 0 ? directory.resumeTenant(id) : directory.archiveTenant(id),
        );
        const codes = await Promise.all(attempts.map(codeOf));
        expect(codes.filter((c) => c === 'resolved')).toHaveLength(1);
        for (const c of codes)
          expect(['resolved', 'ILLEGAL_TRANSITION', 'CONCURRENT_MODIFICATION']).toContain(c);
        expect(events).toHaveLength(1);
        expect((await store.getTenant(id))?.status).toBe(events[0]!.to);
      }));

    it('with expectedVersion a stale caller gets CONCURRENT_MODIFICATION, not a retry', () =>
      asSystem(async () => {
        const { store } = harness();
        const directory = createTenantDirectory({ store });
        const id = uid('t');
        const created = await directory.createTenant({ id, name: 'V' });
        await directory.updateTenant(id, { settings: { 'ui.theme': 'dark' } });
        expect(await codeOf(directory.activateTenant(id, { expectedVersion: created.version }))).toBe(
          'CONCURRENT_MODIFICATION',
        );
        expect((await directory.activateTenant(id, { expectedVersion: created.version + 1 })).status).toBe(
          'ACTIVE',
        );
      }));

    it('walks the subscription lifecycle TRIAL → ACTIVE → PAST_DUE → ACTIVE → CANCELED', () =>
      asSystem(async () => {
        const { store } = harness();
        const directory = createTenantDirectory({ store });
        const id = uid('t');
        await directory.createTenant({ id, name: 'Sub' });
        await directory.putPlan({ id: 'basic-c', name: 'Basic' });
        const s = await directory.startSubscription({ tenantId: id, planId: 'basic-c' });
        expect(s.status).toBe('TRIAL');
        await directory.transitionSubscription(s.id, 'ACTIVE');
        await directory.transitionSubscription(s.id, 'PAST_DUE');
        expect(await codeOf(directory.transitionSubscription(s.id, 'TRIAL'))).toBe('ILLEGAL_TRANSITION');
        await directory.transitionSubscription(s.id, 'ACTIVE');
        const canceled = await directory.transitionSubscription(s.id, 'CANCELED');
        expect(canceled).toMatchObject({ status: 'CANCELED', version: 5 });
        expect(await codeOf(directory.transitionSubscription(s.id, 'ACTIVE'))).toBe('ILLEGAL_TRANSITION');
        expect(await codeOf(directory.changePlan(s.id, 'basic-c'))).toBe('ILLEGAL_TRANSITION');
      }));
  });
}
