import type { Agreement } from '../../platform/model/agreement.js';
import { TenancyModelError } from '../../platform/model/errors.js';
import type { Partner } from '../../platform/model/partner.js';
import type { Plan } from '../../platform/model/plan.js';
import { type PlatformSettings, defaultPlatformSettings } from '../../platform/model/platform-settings.js';
import type { Subscription } from '../../platform/model/subscription.js';
import type { Tenant } from '../../platform/model/tenant.js';
import { exists, missingRef, notFound } from '../../platform/stores/store-errors.js';
import type { TenantFilter, TenantStore } from '../../platform/stores/tenant-store.js';

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * An in-memory {@link TenantStore} with the same semantics as the database backends (it passes the
 * same conformance suite). Single-process only: use it for quick starts and unit tests.
 * @example const directory = createTenantDirectory({ store: new MemoryTenantStore() });
 */
export class MemoryTenantStore implements TenantStore {
  readonly kind = 'memory';
  readonly ownsConnection = false;
  readonly #partners = new Map<string, Partner>();
  readonly #tenants = new Map<string, Tenant>();
  readonly #plans = new Map<string, Plan>();
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #agreements = new Map<string, Agreement[]>();
  #platform: PlatformSettings = defaultPlatformSettings();

  async createPartner(partner: Partner): Promise<Partner> {
    if (this.#partners.has(partner.id)) throw exists('partner', partner.id);
    this.#partners.set(partner.id, structuredClone(partner));
    return structuredClone(partner);
  }
  async getPartner(id: string): Promise<Partner | null> {
    return clone(this.#partners.get(id));
  }
  async listPartners(): Promise<Partner[]> {
    return [...this.#partners.values()].sort(byId).map((p) => structuredClone(p));
  }

  async createTenant(tenant: Tenant): Promise<Tenant> {
    if (this.#tenants.has(tenant.id)) throw exists('tenant', tenant.id);
    this.#checkPartner(tenant.partnerId);
    this.#tenants.set(tenant.id, structuredClone(tenant));
    return structuredClone(tenant);
  }
  async getTenant(id: string): Promise<Tenant | null> {
    return clone(this.#tenants.get(id));
  }
  async listTenants(filter: TenantFilter = {}): Promise<Tenant[]> {
    return [...this.#tenants.values()]
      .filter((t) => filter.partnerId === undefined || t.partnerId === filter.partnerId)
      .filter((t) => filter.status === undefined || t.status === filter.status)
      .filter((t) => filter.after === undefined || t.id > filter.after)
      .sort(byId)
      .slice(0, filter.limit ?? Number.POSITIVE_INFINITY)
      .map((t) => structuredClone(t));
  }
  async replaceTenant(next: Tenant, expectedVersion: number): Promise<Tenant | null> {
    const current = this.#tenants.get(next.id);
    if (!current) throw notFound('tenant', next.id);
    if (current.version !== expectedVersion) return null;
    this.#checkPartner(next.partnerId);
    this.#tenants.set(next.id, structuredClone(next));
    return structuredClone(next);
  }

  async putPlan(plan: Plan): Promise<Plan> {
    this.#plans.set(plan.id, structuredClone(plan));
    return structuredClone(plan);
  }
  async getPlan(id: string): Promise<Plan | null> {
    return clone(this.#plans.get(id));
  }
  async listPlans(): Promise<Plan[]> {
    return [...this.#plans.values()].sort(byId).map((p) => structuredClone(p));
  }

  async createSubscription(subscription: Subscription): Promise<Subscription> {
    if (this.#subscriptions.has(subscription.id)) throw exists('subscription', subscription.id);
    this.#checkSubscriptionRefs(subscription);
    this.#checkSingleLive(subscription);
    this.#subscriptions.set(subscription.id, structuredClone(subscription));
    return structuredClone(subscription);
  }
  async getSubscription(id: string): Promise<Subscription | null> {
    return clone(this.#subscriptions.get(id));
  }
  async currentSubscription(tenantId: string): Promise<Subscription | null> {
    const all = [...this.#subscriptions.values()].filter((s) => s.tenantId === tenantId);
    const live = all.find((s) => s.status !== 'CANCELED');
    if (live) return structuredClone(live);
    all.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
    return clone(all[0]);
  }
  async replaceSubscription(next: Subscription, expectedVersion: number): Promise<Subscription | null> {
    const current = this.#subscriptions.get(next.id);
    if (!current) throw notFound('subscription', next.id);
    if (current.version !== expectedVersion) return null;
    this.#checkSubscriptionRefs(next);
    this.#checkSingleLive(next);
    this.#subscriptions.set(next.id, structuredClone(next));
    return structuredClone(next);
  }

  async recordAgreement(agreement: Agreement): Promise<Agreement> {
    const key = agreementKey(agreement.tenantId, agreement.userId, agreement.document);
    const list = this.#agreements.get(key) ?? [];
    const same = list.find((a) => a.version === agreement.version);
    if (same) return structuredClone(same);
    list.push(structuredClone(agreement));
    this.#agreements.set(key, list);
    return structuredClone(agreement);
  }
  async latestAgreement(tenantId: string, userId: string, document: string): Promise<Agreement | null> {
    const list = this.#agreements.get(agreementKey(tenantId, userId, document)) ?? [];
    let latest: Agreement | undefined;
    for (const a of list) if (!latest || a.acceptedAt.getTime() >= latest.acceptedAt.getTime()) latest = a;
    return clone(latest);
  }

  async getPlatformSettings(): Promise<PlatformSettings> {
    return structuredClone(this.#platform);
  }
  async replacePlatformSettings(
    next: PlatformSettings,
    expectedVersion: number,
  ): Promise<PlatformSettings | null> {
    if (this.#platform.version !== expectedVersion) return null;
    this.#platform = structuredClone(next);
    return structuredClone(next);
  }

  async close(): Promise<void> {}

  #checkPartner(partnerId: string | null): void {
    if (partnerId !== null && !this.#partners.has(partnerId)) throw missingRef('partner', partnerId);
  }
  #checkSubscriptionRefs(s: Subscription): void {
    if (!this.#tenants.has(s.tenantId)) throw missingRef('tenant', s.tenantId);
    if (!this.#plans.has(s.planId)) throw missingRef('plan', s.planId);
  }
  #checkSingleLive(s: Subscription): void {
    if (s.status === 'CANCELED') return;
    for (const other of this.#subscriptions.values()) {
      if (other.id !== s.id && other.tenantId === s.tenantId && other.status !== 'CANCELED') {
        throw new TenancyModelError('ALREADY_EXISTS', 'The tenant already has a live subscription', {
          details: { tenantId: s.tenantId, subscriptionId: other.id },
        });
      }
    }
  }
}

function clone<T>(value: T | undefined): T | null {
  return value === undefined ? null : structuredClone(value);
}
function agreementKey(tenantId: string, userId: string, document: string): string {
  return JSON.stringify([tenantId, userId, document]);
}
