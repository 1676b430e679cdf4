import type { Agreement } from '../model/agreement.js';
import type { Partner } from '../model/partner.js';
import type { Plan } from '../model/plan.js';
import type { PlatformSettings } from '../model/platform-settings.js';
import type { Subscription } from '../model/subscription.js';
import type { Tenant, TenantStatus } from '../model/tenant.js';

/** Filter for {@link TenantStore.listTenants}. */
export interface TenantFilter {
  /** Only tenants of this partner; `null` for tenants without a partner. */
  partnerId?: string | null;
  status?: TenantStatus;
  /** Keyset pagination: only ids after this one (in byte order). */
  after?: string;
  /** At most this many. @default all */
  limit?: number;
}

/**
 * The storage port of the tenancy model: the platform's directory of partners, tenants, plans,
 * subscriptions, terms acceptances and platform settings. It is a platform-level (cross-tenant)
 * directory: call it from back-office code or a system scope, never expose it to tenant users.
 *
 * Backends store what they are given; the state machines are enforced by `createTenantDirectory`
 * above the store. What every backend must guarantee (checked by `tenantStoreConformance` from
 * `@tenantry/core/testing`):
 * - `replaceTenant`, `replaceSubscription` and `replacePlatformSettings` are **conditional writes**:
 *   they write only when the stored `version` equals `expectedVersion`, atomically, and return `null`
 *   otherwise. Of several concurrent writers holding the same version, exactly one wins.
 * - A tenant has at most one subscription that is not CANCELED (`ALREADY_EXISTS` otherwise).
 * - References are checked: a tenant's partner, a subscription's tenant and plan must exist
 *   (`REFERENCE_NOT_FOUND`).
 * - Returned objects are copies: mutating them never changes the store.
 */
export interface TenantStore {
  /** Backend name, e.g. `memory`, `postgres`, `mongo`. */
  readonly kind: string;
  /** Whether `close()` closes the client the store was given. */
  readonly ownsConnection: boolean;

  /** @throws TenancyModelError `ALREADY_EXISTS` */
  createPartner(partner: Partner): Promise<Partner>;
  getPartner(id: string): Promise<Partner | null>;
  /** Partners ordered by id. */
  listPartners(): Promise<Partner[]>;

  /** @throws TenancyModelError `ALREADY_EXISTS`, `REFERENCE_NOT_FOUND` (partner) */
  createTenant(tenant: Tenant): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant | null>;
  /** Tenants ordered by id (byte order), optionally a page of them. */
  listTenants(filter?: TenantFilter): Promise<Tenant[]>;
  /**
   * Replace the tenant iff its stored version is `expectedVersion`; `next.version` must be greater.
   * Returns the stored tenant, or `null` when the version did not match.
   * @throws TenancyModelError `NOT_FOUND`, `REFERENCE_NOT_FOUND` (partner)
   */
  replaceTenant(next: Tenant, expectedVersion: number): Promise<Tenant | null>;

  /** Insert or replace a plan; the caller sets `version`. */
  putPlan(plan: Plan): Promise<Plan>;
  getPlan(id: string): Promise<Plan | null>;
  /** Plans ordered by id. */
  listPlans(): Promise<Plan[]>;

  /** @throws TenancyModelError `ALREADY_EXISTS` (id, or a live subscription exists), `REFERENCE_NOT_FOUND` */
  createSubscription(subscription: Subscription): Promise<Subscription>;
  getSubscription(id: string): Promise<Subscription | null>;
  /** The tenant's subscription that is not CANCELED, else its most recently created one, else `null`. */
  currentSubscription(tenantId: string): Promise<Subscription | null>;
  /**
   * Conditional replace, as {@link replaceTenant}.
   * @throws TenancyModelError `NOT_FOUND`, `REFERENCE_NOT_FOUND` (plan), `ALREADY_EXISTS`
   */
  replaceSubscription(next: Subscription, expectedVersion: number): Promise<Subscription | null>;

  /** Record an acceptance. Recording the same (tenant, user, document, version) again keeps the first time. */
  recordAgreement(agreement: Agreement): Promise<Agreement>;
  /** The most recent acceptance of `document` by the user in the tenant, or `null`. */
  latestAgreement(tenantId: string, userId: string, document: string): Promise<Agreement | null>;

  /** Platform settings; version 0 with defaults when never written. */
  getPlatformSettings(): Promise<PlatformSettings>;
  /** Conditional replace (expected version 0 inserts the first row). */
  replacePlatformSettings(next: PlatformSettings, expectedVersion: number): Promise<PlatformSettings | null>;

  /** Release resources; closes the client only when `ownsConnection`. */
  close(): Promise<void>;
}
