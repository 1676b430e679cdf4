import { ValidationError, requireOptionsObject } from '../kernel/validation.js';
import type { InvalidationBus, InvalidationMessage } from './invalidation-bus.js';
import type { Agreement } from './model/agreement.js';
import type { Plan } from './model/plan.js';
import type { PlatformSettings } from './model/platform-settings.js';
import type { Subscription } from './model/subscription.js';
import type { Tenant } from './model/tenant.js';
import { type Clock, systemClock } from '../kernel/ports/clock.js';
import { type Logger, noopLogger } from '../kernel/ports/logger.js';
import type { TenantStore } from './stores/tenant-store.js';
import { resolveTenantId } from '../kernel/tenant-resolution.js';

/** Everything needed to decide about and configure one tenant. */
export interface TenantConfig {
  readonly tenant: Tenant;
  /** The current subscription (live, else the latest), or `null`. */
  readonly subscription: Subscription | null;
  /** The subscription's plan, or `null`. */
  readonly plan: Plan | null;
  /** Platform settings (global values and maintenance). */
  readonly platform: PlatformSettings;
  /** The user's latest acceptance of the document, when asked for with `options.agreement`. */
  readonly agreement?: Agreement | null;
}

/** Extra data to read with a tenant's configuration. */
export interface ConfigReadOptions {
  /** Also read this user's latest acceptance of `document` (e.g. `terms-of-service`). */
  agreement?: { userId: string; document: string };
}

/** Where the gatekeeper and settings read a tenant's configuration from. */
export interface TenantConfigSource {
  /**
   * The tenant's configuration (the context's tenant when `tenantId` is omitted), or `null` if the
   * tenant does not exist. The tenant is resolved with `resolveTenantId` (T1): inside `runAsTenant(A)`
   * only A, outside any context nothing, inside `runAsSystem` any tenant. The platform settings it
   * carries are platform-level data and are read in any context.
   * @throws TenantryError `TENANT_CONTEXT_MISSING`, `TENANT_CONTEXT_CONFLICT`
   */
  get(tenantId?: string, options?: ConfigReadOptions): Promise<TenantConfig | null>;
  /**
   * What `get` would answer, when it can be answered from memory now, with no I/O and no wait:
   * `undefined` otherwise (not cached, expired, the subscription down, a `strict` read that must
   * wait for its bus's barrier, or the acceptance asked for not cached). The tenant is resolved as in
   * `get`. Optional: a source without it is always asked with `get`.
   * @throws TenantryError `TENANT_CONTEXT_MISSING`, `TENANT_CONTEXT_CONFLICT`
   */
  peek?(tenantId?: string, options?: ConfigReadOptions): TenantConfig | undefined;
}

async function loadTenant(
  store: TenantStore,
  tenantId: string,
): Promise<Omit<TenantConfig, 'platform'> | null> {
  const tenant = await store.getTenant(tenantId);
  if (!tenant) return null;
  const subscription = await store.currentSubscription(tenantId);
  const plan = subscription ? await store.getPlan(subscription.planId) : null;
  return { tenant, subscription, plan };
}

/**
 * Read configuration straight from the store on every call (no cache).
 * @example const gatekeeper = createGatekeeper({ config: directConfigSource(store), store });
 */
export function directConfigSource(store: TenantStore): TenantConfigSource {
  return {
    async get(explicit, options = {}) {
      const tenantId = resolveTenantId(explicit, 'tenant configuration');
      const [loaded, platform] = await Promise.all([
        loadTenant(store, tenantId),
        store.getPlatformSettings(),
      ]);
      if (!loaded) return null;
      const a = options.agreement;
      const agreement = a ? { agreement: await store.latestAgreement(tenantId, a.userId, a.document) } : {};
      return deepFreeze({ ...loaded, platform, ...agreement });
    },
  };
}

/** Options of {@link createTenantConfigCache}. */
export interface TenantConfigCacheOptions {
  store: TenantStore;
  /** The bus every writer publishes to (the same one given to `createTenantDirectory` in every process). */
  bus: InvalidationBus;
  /**
   * Safety net: an entry is re-read after this long even if no invalidation arrived (bounds the damage
   * of a message lost while the subscription looked healthy). @default 30000
   */
  ttlMs?: number;
  /**
   * `strict`: before answering from memory, wait for the bus's delivery barrier (`bus.sync()`: one
   * round trip on the subscription connection, shared by concurrent reads), so a read that starts
   * after an update completed in any process sees it. `eventual`: answer from memory at once; an
   * update becomes visible when its message arrives (usually within milliseconds).
   * @default 'strict'
   */
  consistency?: 'strict' | 'eventual';
  /**
   * Most **tenants** kept (one entry holds a tenant with its subscription and plan); the least recently
   * loaded are dropped first. About 1.5 KB per tenant with a subscription, a plan and a few settings
   * (measured; it grows with the size of the settings and plan), so the default costs roughly 15 MB.
   * @default 10000
   */
  maxEntries?: number;
  /**
   * Most **terms acceptances** kept, counted over all tenants and users together (one entry is one
   * user's latest acceptance of one document, or its absence); the least recently loaded are dropped
   * first. About 0.3 KB for a recorded absence and 0.5 KB for an acceptance (measured), so the default
   * costs at most about 5 MB.
   * @default 10000
   */
  maxAgreements?: number;
  /**
   * How often expired entries are swept from memory without waiting for a read (an unref'd timer
   * running between `start()` and `close()`, so it never keeps the process alive). Expired entries at
   * the old end are also dropped on every insertion. @default ttlMs (at least 1000)
   */
  sweepIntervalMs?: number;
  /** @default systemClock */
  clock?: Clock;
  /** @default noopLogger */
  logger?: Logger;
}

/** Counters for observability and tests. */
export interface TenantConfigCacheStats {
  hits: number;
  misses: number;
  /** Messages received. */
  invalidations: number;
  /** Times the subscription was lost (the cache was flushed and bypassed until it came back). */
  resets: number;
  /** Tenants held in memory now (at most `maxEntries`). */
  tenants: number;
  /** Terms acceptances held in memory now (at most `maxAgreements`). */
  agreements: number;
  /** Entries dropped because they expired, without being read (sweeps). */
  expired: number;
  /** Entries dropped to stay within `maxEntries` / `maxAgreements`. */
  evicted: number;
}

/** A cached {@link TenantConfigSource} invalidated across processes. */
export interface TenantConfigCache extends TenantConfigSource {
  /** See {@link TenantConfigSource.peek}; hits count in `stats().hits`, a miss counts nothing. */
  peek(tenantId?: string, options?: ConfigReadOptions): TenantConfig | undefined;
  /** Subscribe to the bus. Until it resolves, and whenever the subscription is lost, reads bypass the cache. */
  start(): Promise<void>;
  /** Unsubscribe and drop everything. */
  close(): Promise<void>;
  /** Whether the subscription is live (reads may be served from memory). */
  readonly healthy: boolean;
  stats(): TenantConfigCacheStats;
}

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * Cache tenants' configuration in this process and drop entries when any process changes them.
 *
 * Guarantees: (1) every write made through a `TenantDirectory` with the same bus publishes an
 * invalidation after it commits; an entry is dropped when the message arrives. With `strict`
 * consistency (the default) each read first passes the bus's delivery barrier, so a read that starts
 * after a write completed — in any process — sees it; with `eventual`, it sees it once the message
 * arrived (milliseconds). (2) A message can be missed only when the subscription is down: the
 * bus reports it, the cache is flushed and **bypassed** (every read goes to the store) until the bus is
 * subscribed again, so nothing missed can leave a stale entry. (3) A load that raced with an
 * invalidation is returned but not cached (generation check). (4) `ttlMs` bounds anything else
 * (e.g. a publish that failed after the commit, or a half-open connection not yet detected).
 * @example
 * const cache = createTenantConfigCache({ store, bus: new RedisInvalidationBus({ redis, subscriber: redis.duplicate() }) });
 * await cache.start();
 * const config = await runAsTenant(ctx, () => cache.get()); // the context's tenant
 */
export function createTenantConfigCache(options: TenantConfigCacheOptions): TenantConfigCache {
  requireOptionsObject(options, 'tenant config cache options');
  const { store, bus } = options;
  const ttlMs = options.ttlMs ?? 30_000;
  const maxEntries = positiveInt(options.maxEntries, 10_000, 'maxEntries');
  const maxAgreements = positiveInt(options.maxAgreements, 10_000, 'maxAgreements');
  const sweepIntervalMs = positiveInt(
    options.sweepIntervalMs,
    Number.isFinite(ttlMs) && ttlMs > 1000 ? ttlMs : 1000,
    'sweepIntervalMs',
  );
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const tenants = new Map<string, Entry<Omit<TenantConfig, 'platform'>>>();
  // Latest acceptances (or their absence), keyed by JSON [tenantId, userId, document]; one map for all
  // tenants so that `maxAgreements` bounds the total. Both maps keep insertion order, which is expiry
  // order (every entry lives `ttlMs` from its insertion), so expired entries sit at the old end.
  const agreements = new Map<string, Entry<Agreement | null> & { tenantId: string }>();
  let sweepTimer: ReturnType<typeof setInterval> | undefined;
  let platform: Entry<PlatformSettings> | undefined;
  let generation = 0;
  let healthy = false;
  let unsubscribe: (() => Promise<void>) | undefined;
  const stats = { hits: 0, misses: 0, invalidations: 0, resets: 0, expired: 0, evicted: 0 };

  /** Drop expired entries from the old end (amortised O(1) per insertion: each entry is dropped once). */
  const sweepHead = <V extends { expiresAt: number }>(map: Map<string, V>, now: number): void => {
    for (const [k, e] of map) {
      if (e.expiresAt > now) return;
      map.delete(k);
      stats.expired++;
    }
  };
  /** Insert at the recent end, dropping expired entries and, beyond `max`, the oldest. */
  const insert = <V extends { expiresAt: number }>(
    map: Map<string, V>,
    key: string,
    value: V,
    max: number,
    now: number,
  ): void => {
    map.delete(key);
    sweepHead(map, now);
    map.set(key, value);
    while (map.size > max) {
      map.delete(map.keys().next().value as string);
      stats.evicted++;
    }
  };
  /** Full sweep (the timer): also catches entries behind a later one if the clock went backwards. */
  const sweepAll = (): void => {
    const now = clock.now().getTime();
    for (const map of [tenants, agreements] as Map<string, { expiresAt: number }>[]) {
      for (const [k, e] of map) {
        if (e.expiresAt <= now) {
          map.delete(k);
          stats.expired++;
        }
      }
    }
    if (platform && platform.expiresAt <= now) platform = undefined;
  };
  const strict = (options.consistency ?? 'strict') === 'strict';

  // Barrier sharing: a read may reuse a sync only if that sync started after the read did.
  let inflight: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const startSync = (): Promise<void> => {
    const p = bus.sync().finally(() => {
      if (inflight === p) inflight = undefined;
    });
    inflight = p;
    return p;
  };
  const barrier = (): Promise<void> => {
    if (!inflight) return startSync();
    if (!queued) {
      const after = inflight
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return startSync();
        });
      queued = after;
    }
    return queued;
  };
  /** Whether memory may answer now (after the barrier in strict mode). */
  const usable = async (): Promise<boolean> => {
    if (!healthy) return false;
    if (!strict || bus.deliversSynchronously === true) return true;
    try {
      await barrier();
      return healthy;
    } catch {
      return false; // the subscription is failing: read through
    }
  };

  const flush = (): void => {
    generation++;
    tenants.clear();
    agreements.clear();
    platform = undefined;
  };
  const onMessage = (m: InvalidationMessage): void => {
    stats.invalidations++;
    generation++; // any load in flight may have read the old state: do not cache it
    if (m.scope === 'global') {
      flush();
    } else if (m.scope === 'tenant') {
      tenants.delete(m.id);
      for (const [k, e] of agreements) if (e.tenantId === m.id) agreements.delete(k);
    } else {
      for (const [id, e] of tenants) if (e.value.subscription?.planId === m.id) tenants.delete(id);
    }
  };

  const getPlatform = async (useMemory: boolean): Promise<PlatformSettings> => {
    const now = clock.now().getTime();
    if (useMemory && platform && platform.expiresAt > now) return platform.value;
    const gen = generation;
    const value = deepFreeze(await store.getPlatformSettings());
    if (healthy && gen === generation) platform = { value, expiresAt: now + ttlMs };
    return value;
  };

  const getAgreement = async (
    tenantId: string,
    a: { userId: string; document: string },
    useMemory: boolean,
    now: number,
  ): Promise<Agreement | null> => {
    const key = JSON.stringify([tenantId, a.userId, a.document]);
    const hit = agreements.get(key);
    if (useMemory && healthy && hit && hit.expiresAt > now) return hit.value;
    const gen = generation;
    const value = deepFreeze(await store.latestAgreement(tenantId, a.userId, a.document));
    if (healthy && gen === generation) {
      insert(agreements, key, { value, expiresAt: now + ttlMs, tenantId }, maxAgreements, now);
    }
    return value;
  };

  return {
    get healthy() {
      return healthy;
    },
    stats: () => ({ ...stats, tenants: tenants.size, agreements: agreements.size }),
    async start() {
      if (unsubscribe) return;
      if (sweepTimer === undefined) {
        sweepTimer = setInterval(sweepAll, sweepIntervalMs);
        sweepTimer.unref?.();
      }
      unsubscribe = await bus.subscribe({
        onMessage,
        onReady: () => {
          flush();
          healthy = true;
        },
        onReset: () => {
          stats.resets++;
          healthy = false;
          flush();
          logger.warn({ component: 'tenant-config-cache' }, 'invalidation subscription lost; cache bypassed');
        },
      });
    },
    async close() {
      healthy = false;
      clearInterval(sweepTimer);
      sweepTimer = undefined;
      flush();
      const u = unsubscribe;
      unsubscribe = undefined;
      await u?.();
    },
    peek(explicit?: string, options?: ConfigReadOptions): TenantConfig | undefined {
      const tenantId = resolveTenantId(explicit, 'tenant configuration');
      // Memory answers without a wait only when no barrier is owed: eventual reads, or a bus that
      // has delivered every completed write already (one process).
      if (!healthy || (strict && bus.deliversSynchronously !== true)) return undefined;
      const now = clock.now().getTime();
      const cached = tenants.get(tenantId);
      if (!platform || platform.expiresAt <= now || !cached || cached.expiresAt <= now) return undefined;
      const a = options?.agreement;
      if (!a) {
        stats.hits++;
        return { ...cached.value, platform: platform.value };
      }
      if (typeof a.userId !== 'string' || typeof a.document !== 'string') return undefined;
      const hit = agreements.get(JSON.stringify([tenantId, a.userId, a.document]));
      if (!hit || hit.expiresAt <= now) return undefined;
      stats.hits++;
      return { ...cached.value, platform: platform.value, agreement: hit.value };
    },
    async get(explicit?: string, options: ConfigReadOptions = {}): Promise<TenantConfig | null> {
      const tenantId = resolveTenantId(explicit, 'tenant configuration');
      const useMemory = await usable();
      const now = clock.now().getTime();
      const platformValue = await getPlatform(useMemory);
      let value: Omit<TenantConfig, 'platform'>;
      const cached = tenants.get(tenantId);
      if (useMemory && healthy && cached && cached.expiresAt > now) {
        stats.hits++;
        value = cached.value;
      } else {
        stats.misses++;
        const gen = generation;
        const loaded = await loadTenant(store, tenantId);
        if (!loaded) return null;
        value = deepFreeze(loaded);
        if (healthy && gen === generation) {
          insert(tenants, tenantId, { value, expiresAt: now + ttlMs }, maxEntries, now);
        }
      }
      const a = options.agreement;
      if (!a) return { ...value, platform: platformValue };
      return {
        ...value,
        platform: platformValue,
        agreement: await getAgreement(tenantId, a, useMemory, now),
      };
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Date) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function positiveInt(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError('tenant config cache options', [
      { path: [name], message: 'must be a positive integer' },
    ]);
  }
  return value;
}
