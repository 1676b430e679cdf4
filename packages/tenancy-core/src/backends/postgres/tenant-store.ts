import { requireMethods, requireOptionsObject } from '../../kernel/validation.js';
import type { PgPoolLike, PgQueryable } from '../../kernel/drivers.js';
import type { Agreement } from '../../platform/model/agreement.js';
import { TenancyModelError } from '../../platform/model/errors.js';
import type { ConfigMap } from '../../platform/model/json.js';
import type { Partner, PartnerKind } from '../../platform/model/partner.js';
import type { Plan, PlanQuota } from '../../platform/model/plan.js';
import { type PlatformSettings, defaultPlatformSettings } from '../../platform/model/platform-settings.js';
import type { Subscription, SubscriptionStatus } from '../../platform/model/subscription.js';
import type { Isolation, Tenant, TenantStatus } from '../../platform/model/tenant.js';
import { exists, notFound } from '../../platform/stores/store-errors.js';
import { mapPostgresDriverError } from './driver-errors.js';
import type { TenantFilter, TenantStore } from '../../platform/stores/tenant-store.js';

/** Options of {@link PostgresTenantStore}. */
export interface PostgresTenantStoreOptions {
  /** Your `pg` Pool (or anything with `query`). Apply `coreModelMigrations` with `runMigrations` first. */
  pool: PgPoolLike | PgQueryable;
  /** Close the pool in `close()`. @default false */
  ownsConnection?: boolean;
}

type Row = Record<string, unknown>;

/**
 * PostgreSQL {@link TenantStore}. Conditional writes are single `UPDATE … WHERE id = $1 AND version = $2`
 * statements (atomic under READ COMMITTED: a concurrent writer re-checks the predicate after the first
 * commits, so exactly one wins). The database also enforces the state machines (trigger), the single
 * live subscription per tenant (partial unique index) and references (foreign keys).
 * Needs: the `core-model` migrations applied; a role with SELECT/INSERT/UPDATE on the `tenantry_` tables.
 * @example
 * await runMigrations(pool, coreModelMigrations);
 * const store = new PostgresTenantStore({ pool });
 */
export class PostgresTenantStore implements TenantStore {
  readonly kind = 'postgres';
  readonly ownsConnection: boolean;
  readonly #db: PgQueryable;

  constructor(options: PostgresTenantStoreOptions) {
    requireOptionsObject(options, 'PostgresTenantStore options');
    requireMethods(options.pool, ['query'], 'PostgresTenantStore options', 'pool');
    this.#db = options.pool;
    this.ownsConnection = options.ownsConnection ?? false;
  }

  async #q(sql: string, values: unknown[], what: { kind: string; id: string }): Promise<Row[]> {
    try {
      return (await this.#db.query<Row>(sql, values)).rows;
    } catch (error) {
      throw mapPgError(error, what);
    }
  }

  async createPartner(p: Partner): Promise<Partner> {
    const rows = await this.#q(
      `INSERT INTO tenantry_partners (id, name, kind, attributes, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING RETURNING *`,
      [p.id, p.name, p.kind, JSON.stringify(p.attributes), p.createdAt],
      { kind: 'partner', id: p.id },
    );
    if (!rows[0]) throw exists('partner', p.id);
    return toPartner(rows[0]);
  }
  async getPartner(id: string): Promise<Partner | null> {
    const rows = await this.#q('SELECT * FROM tenantry_partners WHERE id = $1', [id], {
      kind: 'partner',
      id,
    });
    return rows[0] ? toPartner(rows[0]) : null;
  }
  async listPartners(): Promise<Partner[]> {
    return (
      await this.#q('SELECT * FROM tenantry_partners ORDER BY id', [], {
        kind: 'partner',
        id: '',
      })
    ).map(toPartner);
  }

  async createTenant(t: Tenant): Promise<Tenant> {
    const rows = await this.#q(
      `INSERT INTO tenantry_tenants (id, partner_id, name, status, isolation, settings, maintenance, version,
         created_at, updated_at, status_changed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING RETURNING *`,
      [
        t.id,
        t.partnerId,
        t.name,
        t.status,
        JSON.stringify(t.isolation),
        JSON.stringify(t.settings),
        t.maintenance,
        t.version,
        t.createdAt,
        t.updatedAt,
        t.statusChangedAt,
      ],
      { kind: 'partner', id: t.partnerId ?? '' },
    );
    if (!rows[0]) throw exists('tenant', t.id);
    return toTenant(rows[0]);
  }
  async getTenant(id: string): Promise<Tenant | null> {
    const rows = await this.#q('SELECT * FROM tenantry_tenants WHERE id = $1', [id], { kind: 'tenant', id });
    return rows[0] ? toTenant(rows[0]) : null;
  }
  async listTenants(filter: TenantFilter = {}): Promise<Tenant[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.partnerId === null) where.push('partner_id IS NULL');
    else if (filter.partnerId !== undefined) where.push(`partner_id = $${values.push(filter.partnerId)}`);
    if (filter.status !== undefined) where.push(`status = $${values.push(filter.status)}`);
    if (filter.after !== undefined) where.push(`id > $${values.push(filter.after)}`);
    const limit = filter.limit === undefined ? '' : ` LIMIT $${values.push(filter.limit)}`;
    const sql = `SELECT * FROM tenantry_tenants${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id${limit}`;
    return (await this.#q(sql, values, { kind: 'tenant', id: '' })).map(toTenant);
  }
  async replaceTenant(t: Tenant, expectedVersion: number): Promise<Tenant | null> {
    const rows = await this.#q(
      `UPDATE tenantry_tenants SET partner_id = $3, name = $4, status = $5, isolation = $6, settings = $7,
         maintenance = $8, version = $9, updated_at = $10, status_changed_at = $11
       WHERE id = $1 AND version = $2 RETURNING *`,
      [
        t.id,
        expectedVersion,
        t.partnerId,
        t.name,
        t.status,
        JSON.stringify(t.isolation),
        JSON.stringify(t.settings),
        t.maintenance,
        t.version,
        t.updatedAt,
        t.statusChangedAt,
      ],
      { kind: 'partner', id: t.partnerId ?? '' },
    );
    if (rows[0]) return toTenant(rows[0]);
    if (!(await this.getTenant(t.id))) throw notFound('tenant', t.id);
    return null;
  }

  async putPlan(p: Plan): Promise<Plan> {
    const rows = await this.#q(
      `INSERT INTO tenantry_plans (id, name, quotas, features, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, quotas = EXCLUDED.quotas, features = EXCLUDED.features,
         version = EXCLUDED.version, updated_at = EXCLUDED.updated_at RETURNING *`,
      [p.id, p.name, JSON.stringify(p.quotas), JSON.stringify(p.features), p.version, p.updatedAt],
      { kind: 'plan', id: p.id },
    );
    return toPlan(rows[0]!);
  }
  async getPlan(id: string): Promise<Plan | null> {
    const rows = await this.#q('SELECT * FROM tenantry_plans WHERE id = $1', [id], { kind: 'plan', id });
    return rows[0] ? toPlan(rows[0]) : null;
  }
  async listPlans(): Promise<Plan[]> {
    return (await this.#q('SELECT * FROM tenantry_plans ORDER BY id', [], { kind: 'plan', id: '' })).map(
      toPlan,
    );
  }

  async createSubscription(s: Subscription): Promise<Subscription> {
    const rows = await this.#q(
      `INSERT INTO tenantry_subscriptions (id, tenant_id, plan_id, status, period_ends_at, version, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING *`,
      [s.id, s.tenantId, s.planId, s.status, s.periodEndsAt, s.version, s.createdAt, s.updatedAt],
      { kind: 'subscription', id: s.id },
    );
    if (!rows[0]) throw exists('subscription', s.id);
    return toSubscription(rows[0]);
  }
  async getSubscription(id: string): Promise<Subscription | null> {
    const rows = await this.#q('SELECT * FROM tenantry_subscriptions WHERE id = $1', [id], {
      kind: 'subscription',
      id,
    });
    return rows[0] ? toSubscription(rows[0]) : null;
  }
  async currentSubscription(tenantId: string): Promise<Subscription | null> {
    const rows = await this.#q(
      `SELECT * FROM tenantry_subscriptions WHERE tenant_id = $1
       ORDER BY (status <> 'CANCELED') DESC, created_at DESC, id DESC LIMIT 1`,
      [tenantId],
      { kind: 'subscription', id: tenantId },
    );
    return rows[0] ? toSubscription(rows[0]) : null;
  }
  async replaceSubscription(s: Subscription, expectedVersion: number): Promise<Subscription | null> {
    const rows = await this.#q(
      `UPDATE tenantry_subscriptions SET tenant_id = $3, plan_id = $4, status = $5, period_ends_at = $6,
         version = $7, updated_at = $8 WHERE id = $1 AND version = $2 RETURNING *`,
      [s.id, expectedVersion, s.tenantId, s.planId, s.status, s.periodEndsAt, s.version, s.updatedAt],
      { kind: 'subscription', id: s.id },
    );
    if (rows[0]) return toSubscription(rows[0]);
    if (!(await this.getSubscription(s.id))) throw notFound('subscription', s.id);
    return null;
  }

  async recordAgreement(a: Agreement): Promise<Agreement> {
    const what = { kind: 'tenant', id: a.tenantId };
    const rows = await this.#q(
      `INSERT INTO tenantry_agreements (tenant_id, user_id, document, version, accepted_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING *`,
      [a.tenantId, a.userId, a.document, a.version, a.acceptedAt],
      what,
    );
    if (rows[0]) return toAgreement(rows[0]);
    const existing = await this.#q(
      'SELECT * FROM tenantry_agreements WHERE tenant_id = $1 AND user_id = $2 AND document = $3 AND version = $4',
      [a.tenantId, a.userId, a.document, a.version],
      what,
    );
    return toAgreement(existing[0]!);
  }
  async latestAgreement(tenantId: string, userId: string, document: string): Promise<Agreement | null> {
    const rows = await this.#q(
      `SELECT * FROM tenantry_agreements WHERE tenant_id = $1 AND user_id = $2 AND document = $3
       ORDER BY accepted_at DESC LIMIT 1`,
      [tenantId, userId, document],
      { kind: 'tenant', id: tenantId },
    );
    return rows[0] ? toAgreement(rows[0]) : null;
  }

  async getPlatformSettings(): Promise<PlatformSettings> {
    const rows = await this.#q(`SELECT * FROM tenantry_platform_settings WHERE id = 'global'`, [], {
      kind: 'platform settings',
      id: 'global',
    });
    return rows[0] ? toPlatform(rows[0]) : defaultPlatformSettings();
  }
  async replacePlatformSettings(
    p: PlatformSettings,
    expectedVersion: number,
  ): Promise<PlatformSettings | null> {
    const values = [JSON.stringify(p.values), p.maintenance, p.version, p.updatedAt ?? new Date(0)];
    const what = { kind: 'platform settings', id: 'global' };
    const rows =
      expectedVersion === 0
        ? await this.#q(
            `INSERT INTO tenantry_platform_settings (id, "values", maintenance, version, updated_at)
             VALUES ('global', $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING *`,
            values,
            what,
          )
        : await this.#q(
            `UPDATE tenantry_platform_settings SET "values" = $1, maintenance = $2, version = $3, updated_at = $4
             WHERE id = 'global' AND version = $5 RETURNING *`,
            [...values, expectedVersion],
            what,
          );
    return rows[0] ? toPlatform(rows[0]) : null;
  }

  async close(): Promise<void> {
    const end = (this.#db as { end?: () => Promise<void> }).end;
    if (this.ownsConnection && typeof end === 'function') await end.call(this.#db);
  }
}

function mapPgError(error: unknown, what: { kind: string; id: string }): unknown {
  const e = error as { code?: string; constraint?: string; table?: string };
  if (e.code === '23503') {
    // foreign key: name the referenced thing from the constraint
    const c = e.constraint ?? '';
    const kind = c.includes('plan')
      ? 'plan'
      : c.includes('partner')
        ? 'partner'
        : c.includes('tenant')
          ? 'tenant'
          : what.kind;
    return new TenancyModelError('REFERENCE_NOT_FOUND', `The referenced ${kind} does not exist`, {
      details: { reference: kind },
    });
  }
  if (e.code === '23505' && e.constraint === 'tenantry_subscriptions_one_live') {
    return new TenancyModelError('ALREADY_EXISTS', 'The tenant already has a live subscription', {
      cause: error,
    });
  }
  if (
    e.code === '23514' &&
    typeof (error as Error).message === 'string' &&
    (error as Error).message.startsWith('tenantry: illegal')
  ) {
    return new TenancyModelError(
      'ILLEGAL_TRANSITION',
      'The database refused an illegal lifecycle transition',
      {
        cause: error,
      },
    );
  }
  return mapPostgresDriverError(error, 'runMigrations(pool, coreModelMigrations)');
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

function toPartner(r: Row): Partner {
  return {
    id: String(r.id),
    name: String(r.name),
    kind: r.kind as PartnerKind,
    attributes: json<ConfigMap>(r.attributes),
    createdAt: date(r.created_at),
  };
}
function toTenant(r: Row): Tenant {
  return {
    id: String(r.id),
    partnerId: r.partner_id === null ? null : String(r.partner_id),
    name: String(r.name),
    status: r.status as TenantStatus,
    isolation: json<Isolation>(r.isolation),
    settings: json<ConfigMap>(r.settings),
    maintenance: r.maintenance === true,
    version: Number(r.version),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    statusChangedAt: date(r.status_changed_at),
  };
}
function toPlan(r: Row): Plan {
  return {
    id: String(r.id),
    name: String(r.name),
    quotas: json<Record<string, PlanQuota>>(r.quotas),
    features: json<ConfigMap>(r.features),
    version: Number(r.version),
    updatedAt: date(r.updated_at),
  };
}
function toSubscription(r: Row): Subscription {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    planId: String(r.plan_id),
    status: r.status as SubscriptionStatus,
    periodEndsAt: r.period_ends_at === null ? null : date(r.period_ends_at),
    version: Number(r.version),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}
function toAgreement(r: Row): Agreement {
  return {
    tenantId: String(r.tenant_id),
    userId: String(r.user_id),
    document: String(r.document),
    version: String(r.version),
    acceptedAt: date(r.accepted_at),
  };
}
function toPlatform(r: Row): PlatformSettings {
  return {
    values: json<ConfigMap>(r.values),
    maintenance: r.maintenance === true,
    version: Number(r.version),
    updatedAt: date(r.updated_at),
  };
}
