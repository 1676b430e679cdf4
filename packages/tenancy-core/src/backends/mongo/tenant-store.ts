import { ValidationError, requireMethods, requireOptionsObject } from '../../kernel/validation.js';
import type { Collection, Db, MongoServerError } from 'mongodb';
import type { Agreement } from '../../platform/model/agreement.js';
import { TenancyModelError } from '../../platform/model/errors.js';
import type { Partner } from '../../platform/model/partner.js';
import type { Plan } from '../../platform/model/plan.js';
import { type PlatformSettings, defaultPlatformSettings } from '../../platform/model/platform-settings.js';
import type { Subscription } from '../../platform/model/subscription.js';
import type { Tenant } from '../../platform/model/tenant.js';
import { exists, missingRef, notFound } from '../../platform/stores/store-errors.js';
import type { TenantFilter, TenantStore } from '../../platform/stores/tenant-store.js';

/** Options of {@link MongoTenantStore}. */
export interface MongoTenantStoreOptions {
  /** A database of your `MongoClient` (official driver). */
  db: Db;
  /** Collection name prefix. @default 'tenantry_' */
  prefix?: string;
  /** Close this client in `close()`. @default undefined (the store does not own the connection) */
  client?: { close(): Promise<void> };
}

type Doc<T> = Omit<T, 'id'> & { _id: string };
type SubDoc = Doc<Subscription> & { liveTenantId?: string };
type AgreementDoc = Agreement & { _id: string };
type PlatformDoc = PlatformSettings & { _id: string };

const strip = <T extends { id: string }>(doc: Doc<T>): T => {
  const { _id, ...rest } = doc as Doc<T> & { liveTenantId?: string };
  delete (rest as { liveTenantId?: string }).liveTenantId;
  return { id: _id, ...rest } as unknown as T;
};
const toDoc = <T extends { id: string }>(value: T): Doc<T> => {
  const { id, ...rest } = value;
  return { _id: id, ...rest } as Doc<T>;
};
const isDuplicate = (e: unknown): boolean => (e as MongoServerError | undefined)?.code === 11000;

/**
 * MongoDB {@link TenantStore} over the official driver. Conditional writes are single
 * `findOneAndUpdate({ _id, version })` / `replaceOne` calls, atomic on one document. The single live
 * subscription per tenant is a unique partial index. References are checked by reads before writes
 * (the model never deletes, so a checked reference stays valid).
 * Needs: call `ensureIndexes()` once at startup. Works on a standalone server, a replica set or a
 * sharded cluster (shard `tenantry_tenants` by `_id`).
 * @example const store = new MongoTenantStore({ db: client.db('app') }); await store.ensureIndexes();
 */
export class MongoTenantStore implements TenantStore {
  readonly kind = 'mongo';
  readonly ownsConnection: boolean;
  readonly #partners: Collection<Doc<Partner>>;
  readonly #tenants: Collection<Doc<Tenant>>;
  readonly #plans: Collection<Doc<Plan>>;
  readonly #subs: Collection<SubDoc>;
  readonly #agreements: Collection<AgreementDoc>;
  readonly #platform: Collection<PlatformDoc>;
  readonly #client: { close(): Promise<void> } | undefined;

  constructor(options: MongoTenantStoreOptions) {
    requireOptionsObject(options, 'MongoTenantStore options');
    requireMethods(options.db, ['collection'], 'MongoTenantStore options', 'db');
    if (
      options.prefix !== undefined &&
      (typeof options.prefix !== 'string' || !/^[A-Za-z0-9_]{0,64}$/.test(options.prefix))
    ) {
      throw new ValidationError('MongoTenantStore options', [
        { path: ['prefix'], message: 'must be up to 64 letters, digits or underscores' },
      ]);
    }
    const p = options.prefix ?? 'tenantry_';
    this.#partners = options.db.collection(`${p}partners`);
    this.#tenants = options.db.collection(`${p}tenants`);
    this.#plans = options.db.collection(`${p}plans`);
    this.#subs = options.db.collection(`${p}subscriptions`);
    this.#agreements = options.db.collection(`${p}agreements`);
    this.#platform = options.db.collection(`${p}platform_settings`);
    this.#client = options.client;
    this.ownsConnection = options.client !== undefined;
  }

  /** Create the indexes the store relies on (idempotent). */
  async ensureIndexes(): Promise<void> {
    await this.#subs.createIndex(
      { liveTenantId: 1 },
      {
        unique: true,
        partialFilterExpression: { liveTenantId: { $exists: true } },
        name: 'one_live_per_tenant',
      },
    );
    await this.#subs.createIndex({ tenantId: 1, createdAt: -1 });
    await this.#tenants.createIndex({ partnerId: 1, _id: 1 });
    await this.#agreements.createIndex({ tenantId: 1, userId: 1, document: 1, acceptedAt: -1 });
  }

  async createPartner(partner: Partner): Promise<Partner> {
    try {
      await this.#partners.insertOne(toDoc(partner));
    } catch (e) {
      throw isDuplicate(e) ? exists('partner', partner.id) : e;
    }
    return partner;
  }
  async getPartner(id: string): Promise<Partner | null> {
    const d = await this.#partners.findOne({ _id: id });
    return d ? strip<Partner>(d) : null;
  }
  async listPartners(): Promise<Partner[]> {
    return (await this.#partners.find().sort({ _id: 1 }).toArray()).map((d) => strip<Partner>(d));
  }

  async createTenant(tenant: Tenant): Promise<Tenant> {
    await this.#checkPartner(tenant.partnerId);
    try {
      await this.#tenants.insertOne(toDoc(tenant));
    } catch (e) {
      throw isDuplicate(e) ? exists('tenant', tenant.id) : e;
    }
    return tenant;
  }
  async getTenant(id: string): Promise<Tenant | null> {
    const d = await this.#tenants.findOne({ _id: id });
    return d ? strip<Tenant>(d) : null;
  }
  async listTenants(filter: TenantFilter = {}): Promise<Tenant[]> {
    const q: Record<string, unknown> = {};
    if (filter.partnerId !== undefined) q.partnerId = filter.partnerId;
    if (filter.status !== undefined) q.status = filter.status;
    if (filter.after !== undefined) q._id = { $gt: filter.after };
    const cursor = this.#tenants.find(q).sort({ _id: 1 });
    if (filter.limit !== undefined) cursor.limit(filter.limit);
    return (await cursor.toArray()).map((d) => strip<Tenant>(d));
  }
  async replaceTenant(next: Tenant, expectedVersion: number): Promise<Tenant | null> {
    await this.#checkPartner(next.partnerId);
    const r = await this.#tenants.replaceOne({ _id: next.id, version: expectedVersion }, toDoc(next));
    if (r.matchedCount === 1) return next;
    if (!(await this.#tenants.countDocuments({ _id: next.id }, { limit: 1 })))
      throw notFound('tenant', next.id);
    return null;
  }

  async putPlan(plan: Plan): Promise<Plan> {
    await this.#plans.replaceOne({ _id: plan.id }, toDoc(plan), { upsert: true });
    return plan;
  }
  async getPlan(id: string): Promise<Plan | null> {
    const d = await this.#plans.findOne({ _id: id });
    return d ? strip<Plan>(d) : null;
  }
  async listPlans(): Promise<Plan[]> {
    return (await this.#plans.find().sort({ _id: 1 }).toArray()).map((d) => strip<Plan>(d));
  }

  async createSubscription(s: Subscription): Promise<Subscription> {
    await this.#checkSubscriptionRefs(s);
    try {
      await this.#subs.insertOne(subDoc(s));
    } catch (e) {
      if (!isDuplicate(e)) throw e;
      const sameId = await this.#subs.countDocuments({ _id: s.id }, { limit: 1 });
      throw sameId ? exists('subscription', s.id) : liveExists(s.tenantId);
    }
    return s;
  }
  async getSubscription(id: string): Promise<Subscription | null> {
    const d = await this.#subs.findOne({ _id: id });
    return d ? strip<Subscription>(d) : null;
  }
  async currentSubscription(tenantId: string): Promise<Subscription | null> {
    const live = await this.#subs.findOne({ liveTenantId: tenantId });
    if (live) return strip<Subscription>(live);
    const [last] = await this.#subs.find({ tenantId }).sort({ createdAt: -1, _id: -1 }).limit(1).toArray();
    return last ? strip<Subscription>(last) : null;
  }
  async replaceSubscription(next: Subscription, expectedVersion: number): Promise<Subscription | null> {
    await this.#checkSubscriptionRefs(next);
    try {
      const r = await this.#subs.replaceOne({ _id: next.id, version: expectedVersion }, subDoc(next));
      if (r.matchedCount === 1) return next;
    } catch (e) {
      throw isDuplicate(e) ? liveExists(next.tenantId) : e;
    }
    if (!(await this.#subs.countDocuments({ _id: next.id }, { limit: 1 })))
      throw notFound('subscription', next.id);
    return null;
  }

  async recordAgreement(a: Agreement): Promise<Agreement> {
    const _id = JSON.stringify([a.tenantId, a.userId, a.document, a.version]);
    const d = await this.#agreements.findOneAndUpdate(
      { _id },
      { $setOnInsert: { ...a, _id } },
      { upsert: true, returnDocument: 'after' },
    );
    const { _id: _ignored, ...rest } = d ?? { ...a, _id };
    return rest;
  }
  async latestAgreement(tenantId: string, userId: string, document: string): Promise<Agreement | null> {
    const [d] = await this.#agreements
      .find({ tenantId, userId, document })
      .sort({ acceptedAt: -1 })
      .limit(1)
      .toArray();
    if (!d) return null;
    const { _id, ...rest } = d;
    return rest;
  }

  async getPlatformSettings(): Promise<PlatformSettings> {
    const d = await this.#platform.findOne({ _id: 'global' });
    if (!d) return defaultPlatformSettings();
    const { _id, ...rest } = d;
    return rest;
  }
  async replacePlatformSettings(
    next: PlatformSettings,
    expectedVersion: number,
  ): Promise<PlatformSettings | null> {
    if (expectedVersion === 0) {
      try {
        await this.#platform.insertOne({ ...next, _id: 'global' });
        return next;
      } catch (e) {
        if (isDuplicate(e)) return null;
        throw e;
      }
    }
    const r = await this.#platform.replaceOne({ _id: 'global', version: expectedVersion }, { ...next });
    return r.matchedCount === 1 ? next : null;
  }

  async close(): Promise<void> {
    if (this.#client) await this.#client.close();
  }

  async #checkPartner(partnerId: string | null): Promise<void> {
    if (partnerId !== null && !(await this.#partners.countDocuments({ _id: partnerId }, { limit: 1 })))
      throw missingRef('partner', partnerId);
  }
  async #checkSubscriptionRefs(s: Subscription): Promise<void> {
    if (!(await this.#tenants.countDocuments({ _id: s.tenantId }, { limit: 1 })))
      throw missingRef('tenant', s.tenantId);
    if (!(await this.#plans.countDocuments({ _id: s.planId }, { limit: 1 })))
      throw missingRef('plan', s.planId);
  }
}

function subDoc(s: Subscription): SubDoc {
  const d: SubDoc = toDoc(s);
  if (s.status !== 'CANCELED') d.liveTenantId = s.tenantId;
  return d;
}
function liveExists(tenantId: string): TenancyModelError {
  return new TenancyModelError('ALREADY_EXISTS', 'The tenant already has a live subscription', {
    details: { tenantId },
  });
}
