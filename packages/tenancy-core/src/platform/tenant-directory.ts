import { z } from 'zod';
import { createUuidV7Generator } from '../kernel/ids.js';
import type { InvalidationBus, InvalidationMessage } from './invalidation-bus.js';
import { type Agreement, AgreementInputSchema, type AgreementInput } from './model/agreement.js';
import { TenancyModelError } from './model/errors.js';
import { TenancyEventEmitter, type TenancyEventHandler, type TenancyEventType } from './model/events.js';
import type { ConfigMap } from './model/json.js';
import { assertTransition } from './model/lifecycle.js';
import { type NewPartnerInput, NewPartnerSchema, type Partner } from './model/partner.js';
import { type Plan, type PlanInput, PlanInputSchema, PlanIdSchema } from './model/plan.js';
import {
  type PlatformSettings,
  type PlatformSettingsInput,
  PlatformSettingsInputSchema,
} from './model/platform-settings.js';
import {
  type NewSubscriptionInput,
  NewSubscriptionSchema,
  type Subscription,
  type SubscriptionStatus,
  SubscriptionStatusSchema,
} from './model/subscription.js';
import {
  type NewTenantInput,
  NewTenantSchema,
  type Tenant,
  type TenantConfigPatch,
  TenantConfigPatchSchema,
  type TenantStatus,
  TenantStatusSchema,
} from './model/tenant.js';
import { type Clock, systemClock } from '../kernel/ports/clock.js';
import { type Logger, noopLogger } from '../kernel/ports/logger.js';
import { notFound } from './stores/store-errors.js';
import type { TenantStore } from './stores/tenant-store.js';
import { currentSystemScope, currentTenantContext } from '../kernel/context.js';
import { withSpan } from '../kernel/telemetry.js';
import { requireSystemScope, resolveTenantId } from '../kernel/tenant-resolution.js';
import { parseInput, requireOptionsObject } from '../kernel/validation.js';

/** Validates setting values before they are written (a `SettingsRegistry` from `defineSettings` is one). */
export interface SettingsValidator {
  /** @throws TenancyModelError `SETTING_INVALID` */
  validateLayer(values: ConfigMap, layer: 'global' | 'plan' | 'tenant'): void;
}

/** Options of {@link createTenantDirectory}. */
export interface TenantDirectoryOptions {
  store: TenantStore;
  /** Where invalidations go after each committed write; without it, caches in other processes rely on their TTL. */
  bus?: InvalidationBus;
  /** Validates global values, plan features and tenant overrides on write. */
  settings?: SettingsValidator;
  /** @default systemClock */
  clock?: Clock;
  /** @default noopLogger */
  logger?: Logger;
  /** How often an unconditioned write re-reads and retries after losing a conditional write. @default 5 */
  maxRetries?: number;
}

/** Options of a conditional operation. */
export interface WriteOptions {
  /** Apply only if the record is still at this version; otherwise `CONCURRENT_MODIFICATION`, no retry. */
  expectedVersion?: number;
}

/** Options of a lifecycle transition. */
export interface TransitionOptions extends WriteOptions {
  /** Why, carried in the emitted event (e.g. `payment overdue`). */
  reason?: string;
}

const TransitionOptionsSchema = z.object({
  expectedVersion: z.number().int().min(0).optional(),
  reason: z.string().max(500).optional(),
});

/**
 * The tenancy model's service: every write goes through it, so that the state machines are enforced,
 * transitions are conditional writes, events are emitted after commit and caches are invalidated.
 *
 * Tenant isolation (T1): an operation on one tenant's records (its tenant, subscriptions, agreements)
 * resolves the tenant with `resolveTenantId`: inside `runAsTenant(A)` only A (`TENANT_CONTEXT_CONFLICT`
 * otherwise), outside any context nothing (`TENANT_CONTEXT_MISSING`), inside `runAsSystem` any tenant.
 * Platform-wide changes (partners, plans, platform settings, creating a tenant) need `runAsSystem`
 * (`SYSTEM_SCOPE_REQUIRED`). Platform-level reads (`getPlan`, `getPlatformSettings`) work anywhere.
 */
export interface TenantDirectory {
  /** The store underneath: back-office access with no tenant check; prefer the directory's methods. */
  readonly store: TenantStore;
  /** The tenant (the context's when `id` is omitted), or `null`. @throws `TENANT_CONTEXT_MISSING`, `TENANT_CONTEXT_CONFLICT` */
  getTenant(id?: string): Promise<Tenant | null>;
  /** The tenant's live subscription, else its latest, or `null`. @throws `TENANT_CONTEXT_MISSING`, `TENANT_CONTEXT_CONFLICT` */
  currentSubscription(tenantId?: string): Promise<Subscription | null>;
  /** A plan (platform-level data: readable in any context), or `null`. */
  getPlan(id: string): Promise<Plan | null>;
  /** Platform settings (platform-level data: readable in any context, e.g. global maintenance). */
  getPlatformSettings(): Promise<PlatformSettings>;
  /** Subscribe to events (`'*'` for all). Returns an unsubscribe function. */
  on<T extends TenancyEventType | '*'>(type: T, handler: TenancyEventHandler<T>): () => void;

  /** Platform-wide: needs `runAsSystem`. @throws `SYSTEM_SCOPE_REQUIRED`, `VALIDATION_FAILED`, `ALREADY_EXISTS` */
  createPartner(input: NewPartnerInput): Promise<Partner>;
  /** Creates the tenant in PROVISIONING; platform-wide, needs `runAsSystem`. @throws `SYSTEM_SCOPE_REQUIRED`, `VALIDATION_FAILED`, `ALREADY_EXISTS`, `REFERENCE_NOT_FOUND`, `SETTING_INVALID` */
  createTenant(input: NewTenantInput): Promise<Tenant>;
  /**
   * Move the tenant to `to` with a conditional write. Without `expectedVersion`, a lost write is
   * retried against the fresh state (and fails `ILLEGAL_TRANSITION` if the move no longer applies).
   * @throws `ILLEGAL_TRANSITION`, `CONCURRENT_MODIFICATION`, `NOT_FOUND`
   */
  transitionTenant(id: string, to: TenantStatus, options?: TransitionOptions): Promise<Tenant>;
  /** PROVISIONING → ACTIVE. */
  activateTenant(id: string, options?: TransitionOptions): Promise<Tenant>;
  /** ACTIVE → SUSPENDED. */
  suspendTenant(id: string, options?: TransitionOptions): Promise<Tenant>;
  /** SUSPENDED → ACTIVE. */
  resumeTenant(id: string, options?: TransitionOptions): Promise<Tenant>;
  /** SUSPENDED → ARCHIVED (final). */
  archiveTenant(id: string, options?: TransitionOptions): Promise<Tenant>;
  /** Change name, isolation, overrides or maintenance (conditional write, retried like transitions). */
  updateTenant(id: string, patch: TenantConfigPatch, options?: WriteOptions): Promise<Tenant>;

  /** Create or replace a plan (version + 1); needs `runAsSystem`. Tenants on the plan are invalidated. @throws `SYSTEM_SCOPE_REQUIRED` */
  putPlan(input: PlanInput): Promise<Plan>;
  /** Start a subscription (TRIAL by default). @throws `ALREADY_EXISTS` when a live one exists */
  startSubscription(input: NewSubscriptionInput): Promise<Subscription>;
  /** @throws `ILLEGAL_TRANSITION`, `CONCURRENT_MODIFICATION`, `NOT_FOUND` */
  transitionSubscription(
    id: string,
    to: SubscriptionStatus,
    options?: TransitionOptions,
  ): Promise<Subscription>;
  /** Move a live subscription to another plan. @throws `ILLEGAL_TRANSITION` on a CANCELED one */
  changePlan(subscriptionId: string, planId: string, options?: WriteOptions): Promise<Subscription>;

  /** Record that a user accepted a version of the terms (or another document). */
  acceptTerms(input: AgreementInput): Promise<Agreement>;
  /** Update global values and/or global maintenance mode; needs `runAsSystem`. Every cached tenant is invalidated. @throws `SYSTEM_SCOPE_REQUIRED` */
  updatePlatformSettings(
    patch: Partial<PlatformSettingsInput>,
    options?: WriteOptions,
  ): Promise<PlatformSettings>;
}

/**
 * Build the {@link TenantDirectory} over a store.
 * @example
 * const directory = createTenantDirectory({ store: new MemoryTenantStore() });
 * directory.on('tenant.transitioned', (e) => console.log(e.tenantId, e.from, '→', e.to));
 * await runAsSystem({ actor: { id: 'ops', kind: 'service' }, reason: 'onboarding acme' }, audit, async () => {
 *   await directory.createTenant({ id: 'acme', name: 'Acme' });
 *   await directory.activateTenant('acme');
 * });
 */
export function createTenantDirectory(options: TenantDirectoryOptions): TenantDirectory {
  requireOptionsObject(options, 'tenant directory options');
  const { store, bus, settings } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const maxRetries = options.maxRetries ?? 5;
  const events = new TenancyEventEmitter(logger);
  const newId = createUuidV7Generator(clock);

  const invalidate = async (message: InvalidationMessage): Promise<void> => {
    if (!bus) return;
    try {
      await bus.publish(message);
    } catch (error) {
      // The write is committed; other processes fall back on their cache TTL.
      logger.error({ err: error, scope: message.scope }, 'cache invalidation publish failed');
    }
  };

  /** Read-modify-conditional-write with bounded retries. */
  async function casLoop<T extends { version: number }>(
    what: string,
    id: string,
    read: () => Promise<T | null>,
    change: (current: T) => T,
    write: (next: T, expected: number) => Promise<T | null>,
    opts: WriteOptions,
  ): Promise<{ before: T; after: T }> {
    for (let attempt = 0; ; attempt++) {
      const current = await read();
      if (!current) throw notFound(what, id);
      if (opts.expectedVersion !== undefined && current.version !== opts.expectedVersion)
        throw conflict(what, id);
      const next = change(current);
      const saved = await write(next, current.version);
      if (saved) return { before: current, after: saved };
      if (opts.expectedVersion !== undefined || attempt >= maxRetries) throw conflict(what, id);
    }
  }

  const transitionTenantRaw = async (
    id: string,
    to: TenantStatus,
    raw: TransitionOptions = {},
  ): Promise<Tenant> => {
    resolveTenantId(id, 'tenant');
    const target = parseInput(TenantStatusSchema, to, 'tenant status');
    const opts = parseInput(TransitionOptionsSchema, raw, 'transition options');
    const { before, after } = await casLoop(
      'tenant',
      id,
      () => store.getTenant(id),
      (t) => {
        assertTransition('tenant', t.status, target, id);
        const now = clock.now();
        return { ...t, status: target, version: t.version + 1, updatedAt: now, statusChangedAt: now };
      },
      (next, expected) => store.replaceTenant(next, expected),
      opts,
    );
    await invalidate({ scope: 'tenant', id });
    await events.emit({
      type: 'tenant.transitioned',
      tenantId: id,
      from: before.status,
      to: after.status,
      version: after.version,
      ...(opts.reason === undefined ? {} : { reason: opts.reason }),
      at: after.statusChangedAt,
    });
    return after;
  };

  const transitionSubscriptionRaw = async (
    id: string,
    to: SubscriptionStatus,
    raw: TransitionOptions = {},
  ): Promise<Subscription> => {
    requireSomeScope('subscription');
    const target = parseInput(SubscriptionStatusSchema, to, 'subscription status');
    const opts = parseInput(TransitionOptionsSchema, raw, 'transition options');
    const { before, after } = await casLoop(
      'subscription',
      id,
      () => store.getSubscription(id),
      (s) => {
        resolveTenantId(s.tenantId, 'subscription');
        assertTransition('subscription', s.status, target, id);
        return { ...s, status: target, version: s.version + 1, updatedAt: clock.now() };
      },
      (next, expected) => store.replaceSubscription(next, expected),
      opts,
    );
    await invalidate({ scope: 'tenant', id: after.tenantId });
    await events.emit({
      type: 'subscription.transitioned',
      subscriptionId: id,
      tenantId: after.tenantId,
      from: before.status,
      to: after.status,
      version: after.version,
      at: after.updatedAt,
    });
    return after;
  };

  const transitionTenant = (id: string, to: TenantStatus, o?: TransitionOptions): Promise<Tenant> =>
    withSpan(
      'core',
      'directory.transition_tenant',
      { 'tenantry.tenant_id': id, 'tenantry.to': String(to) },
      () => transitionTenantRaw(id, to, o),
    );
  const transitionSubscription = (
    id: string,
    to: SubscriptionStatus,
    o?: TransitionOptions,
  ): Promise<Subscription> =>
    withSpan(
      'core',
      'directory.transition_subscription',
      { 'tenantry.subscription_id': id, 'tenantry.to': String(to) },
      () => transitionSubscriptionRaw(id, to, o),
    );

  const api: TenantDirectory = {
    store,
    getTenant: (id) =>
      withSpan('core', 'directory.get_tenant', {}, async () =>
        store.getTenant(resolveTenantId(id, 'tenant')),
      ),
    currentSubscription: (id) =>
      withSpan('core', 'directory.current_subscription', {}, async () =>
        store.currentSubscription(resolveTenantId(id, 'subscription')),
      ),
    getPlan: (id) =>
      withSpan('core', 'directory.get_plan', {}, async () =>
        store.getPlan(parseInput(PlanIdSchema, id, 'plan id')),
      ),
    getPlatformSettings: () =>
      withSpan('core', 'directory.get_platform_settings', {}, () => store.getPlatformSettings()),
    on: <T extends TenancyEventType | '*'>(type: T, handler: TenancyEventHandler<T>) =>
      events.on(type, handler),

    async createPartner(input: NewPartnerInput): Promise<Partner> {
      requireSystemScope('partner');
      const parsed = parseInput(NewPartnerSchema, input, 'partner');
      const partner = await store.createPartner({ ...parsed, createdAt: clock.now() });
      await events.emit({ type: 'partner.created', partnerId: partner.id, at: partner.createdAt });
      return partner;
    },

    async createTenant(input: NewTenantInput): Promise<Tenant> {
      requireSystemScope('tenant list (creating a tenant)');
      const parsed = parseInput(NewTenantSchema, input, 'tenant');
      settings?.validateLayer(parsed.settings, 'tenant');
      const now = clock.now();
      const tenant = await store.createTenant({
        ...parsed,
        status: 'PROVISIONING',
        maintenance: false,
        version: 1,
        createdAt: now,
        updatedAt: now,
        statusChangedAt: now,
      });
      await invalidate({ scope: 'tenant', id: tenant.id });
      await events.emit({
        type: 'tenant.created',
        tenantId: tenant.id,
        partnerId: tenant.partnerId,
        at: now,
      });
      return tenant;
    },

    transitionTenant,
    activateTenant: (id, o) => transitionTenant(id, 'ACTIVE', o),
    suspendTenant: (id, o) => transitionTenant(id, 'SUSPENDED', o),
    resumeTenant: (id, o) => transitionTenant(id, 'ACTIVE', o),
    archiveTenant: (id, o) => transitionTenant(id, 'ARCHIVED', o),

    async updateTenant(id: string, patch: TenantConfigPatch, raw: WriteOptions = {}): Promise<Tenant> {
      resolveTenantId(id, 'tenant');
      const parsed = parseInput(TenantConfigPatchSchema, patch, 'tenant patch');
      const opts = parseInput(TransitionOptionsSchema, raw, 'write options');
      if (parsed.settings) settings?.validateLayer(parsed.settings, 'tenant');
      const { after } = await casLoop(
        'tenant',
        id,
        () => store.getTenant(id),
        (t) => ({
          ...t,
          ...(parsed.name === undefined ? {} : { name: parsed.name }),
          ...(parsed.isolation === undefined ? {} : { isolation: parsed.isolation }),
          ...(parsed.settings === undefined ? {} : { settings: parsed.settings }),
          ...(parsed.maintenance === undefined ? {} : { maintenance: parsed.maintenance }),
          version: t.version + 1,
          updatedAt: clock.now(),
        }),
        (next, expected) => store.replaceTenant(next, expected),
        opts,
      );
      await invalidate({ scope: 'tenant', id });
      await events.emit({
        type: 'tenant.updated',
        tenantId: id,
        version: after.version,
        at: after.updatedAt,
      });
      return after;
    },

    async putPlan(input: PlanInput): Promise<Plan> {
      requireSystemScope('plan');
      const parsed = parseInput(PlanInputSchema, input, 'plan');
      settings?.validateLayer(parsed.features, 'plan');
      const existing = await store.getPlan(parsed.id);
      const plan = await store.putPlan({
        ...parsed,
        version: (existing?.version ?? 0) + 1,
        updatedAt: clock.now(),
      });
      await invalidate({ scope: 'plan', id: plan.id });
      await events.emit({ type: 'plan.updated', planId: plan.id, version: plan.version, at: plan.updatedAt });
      return plan;
    },

    async startSubscription(input: NewSubscriptionInput): Promise<Subscription> {
      resolveTenantId(explicitTenant(input), 'subscription');
      const parsed = parseInput(NewSubscriptionSchema, input, 'subscription');
      const now = clock.now();
      const sub = await store.createSubscription({
        ...parsed,
        id: parsed.id ?? newId(),
        version: 1,
        createdAt: now,
        updatedAt: now,
      });
      await invalidate({ scope: 'tenant', id: sub.tenantId });
      await events.emit({
        type: 'subscription.started',
        subscriptionId: sub.id,
        tenantId: sub.tenantId,
        planId: sub.planId,
        at: now,
      });
      return sub;
    },

    transitionSubscription,

    async changePlan(subscriptionId: string, planId: string, raw: WriteOptions = {}): Promise<Subscription> {
      requireSomeScope('subscription');
      const plan = parseInput(PlanIdSchema, planId, 'plan id');
      const opts = parseInput(TransitionOptionsSchema, raw, 'write options');
      const { before, after } = await casLoop(
        'subscription',
        subscriptionId,
        () => store.getSubscription(subscriptionId),
        (s) => {
          resolveTenantId(s.tenantId, 'subscription');
          if (s.status === 'CANCELED') assertTransition('subscription', s.status, s.status, subscriptionId);
          return { ...s, planId: plan, version: s.version + 1, updatedAt: clock.now() };
        },
        (next, expected) => store.replaceSubscription(next, expected),
        opts,
      );
      await invalidate({ scope: 'tenant', id: after.tenantId });
      await events.emit({
        type: 'subscription.plan-changed',
        subscriptionId,
        tenantId: after.tenantId,
        from: before.planId,
        to: after.planId,
        at: after.updatedAt,
      });
      return after;
    },

    async acceptTerms(input: AgreementInput): Promise<Agreement> {
      resolveTenantId(explicitTenant(input), 'agreement');
      const parsed = parseInput(AgreementInputSchema, input, 'agreement');
      const now = clock.now();
      const saved = await store.recordAgreement({ ...parsed, acceptedAt: parsed.acceptedAt ?? now });
      await invalidate({ scope: 'tenant', id: saved.tenantId });
      await events.emit({ type: 'terms.accepted', agreement: saved, at: now });
      return saved;
    },

    async updatePlatformSettings(
      patch: Partial<PlatformSettingsInput>,
      raw: WriteOptions = {},
    ): Promise<PlatformSettings> {
      requireSystemScope('platform settings');
      const parsed = parseInput(PlatformSettingsInputSchema.partial(), patch, 'platform settings');
      const opts = parseInput(TransitionOptionsSchema, raw, 'write options');
      if (parsed.values) settings?.validateLayer(parsed.values, 'global');
      const { after } = await casLoop(
        'platform settings',
        'global',
        () => store.getPlatformSettings(),
        (p) => ({
          values: parsed.values ?? p.values,
          maintenance: parsed.maintenance ?? p.maintenance,
          version: p.version + 1,
          updatedAt: clock.now(),
        }),
        (next, expected) => store.replacePlatformSettings(next, expected),
        opts,
      );
      await invalidate({ scope: 'global' });
      await events.emit({ type: 'platform-settings.updated', version: after.version, at: after.updatedAt! });
      return after;
    },
  };
  /** Trace every other write as `tenantry.directory.<method>`, tagged with the tenant when known. */
  const traced =
    <A extends unknown[], R>(
      name: string,
      fn: (...args: A) => Promise<R>,
      tenantOf?: (...args: A) => unknown,
    ) =>
    (...args: A): Promise<R> => {
      const tenant = tenantOf?.(...args);
      return withSpan(
        'core',
        `directory.${name}`,
        typeof tenant === 'string' ? { 'tenantry.tenant_id': tenant } : {},
        () => fn(...args),
      );
    };
  const input = (i: unknown): unknown => (i as { id?: unknown; tenantId?: unknown } | undefined)?.tenantId;
  return Object.freeze({
    ...api,
    createPartner: traced('create_partner', api.createPartner),
    createTenant: traced('create_tenant', api.createTenant, (i) => (i as { id?: unknown } | undefined)?.id),
    updateTenant: traced('update_tenant', api.updateTenant, (id) => id),
    putPlan: traced('put_plan', api.putPlan),
    startSubscription: traced('start_subscription', api.startSubscription, input),
    changePlan: traced('change_plan', api.changePlan),
    acceptTerms: traced('accept_terms', api.acceptTerms, input),
    updatePlatformSettings: traced('update_platform_settings', api.updatePlatformSettings),
  });
}

/** Outside any tenant context and system scope, refuse before reading anything (T1). */
function requireSomeScope(what: string): void {
  if (currentTenantContext() === undefined && currentSystemScope() === undefined)
    resolveTenantId(undefined, what);
}

/** The tenant an input names, if it is a string (validation proper happens in the schema). */
function explicitTenant(input: unknown): string | undefined {
  const t = (input as { tenantId?: unknown } | null | undefined)?.tenantId;
  return typeof t === 'string' ? t : undefined;
}

function conflict(what: string, id: string): TenancyModelError {
  return new TenancyModelError('CONCURRENT_MODIFICATION', `The ${what} was changed by someone else`, {
    details: { what, id },
  });
}
