import { type Clock, systemClock } from '@tenantry/core';
import type { IndexKeyMaterial, KeyMaterial } from './key-material.js';

/** Most key ids cached for one tenant (its primary plus older keys being read during a rotation). */
export const MAX_KEYS_PER_TENANT = 16;

/** Why an entry left the cache (metric attribute `reason`). */
export type EvictionReason = 'capacity' | 'expired';

interface Slot<V> {
  value: V;
  expires: number;
}

/** Everything cached for one tenant: its primary data key, its blind-index key, keys by id. */
interface TenantEntry {
  primary?: Slot<KeyMaterial> | undefined;
  index?: Slot<IndexKeyMaterial> | undefined;
  /** Keys by id, oldest use first (bounded by {@link MAX_KEYS_PER_TENANT}). */
  byId: Map<string, Slot<KeyMaterial>>;
}

/** Options of {@link TenantKeyCache}. */
export interface TenantKeyCacheOptions {
  maxTenants: number;
  ttlMs: number;
  sweepIntervalMs: number;
  clock: Clock;
  /** Called for every key that leaves the cache without being asked to (capacity or expiry). */
  onEvict?: ((reason: EvictionReason, keys: number) => void) | undefined;
}

/**
 * The unwrapped-key cache, sized in **tenants**: one entry per tenant holds its primary data key, its
 * blind-index key and up to {@link MAX_KEYS_PER_TENANT} keys by id, so a tenant costs one entry whatever
 * it is asked for. Least recently used tenants are evicted beyond `maxTenants`.
 *
 * Every key expires `ttlMs` after it was loaded, however often it is read, so a key deleted elsewhere
 * (crypto-shredding) stops working here within the TTL. Expired keys are dropped without waiting for a
 * read: a sweep runs every `sweepIntervalMs` while the cache holds anything (an unref'd timer, so it
 * never keeps the process alive; it stops when the cache is empty). Entries are not zeroed on eviction
 * (an operation in flight may still hold them); they are left to the garbage collector.
 * @internal
 */
export class TenantKeyCache {
  readonly #tenants = new Map<string, TenantEntry>();
  readonly #now: () => number;
  readonly #options: TenantKeyCacheOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The most recently used tenant (already at the recent end of the map). */
  #mru: string | undefined;

  constructor(options: TenantKeyCacheOptions) {
    this.#options = options;
    const clock = options.clock;
    // Date.now() avoids a Date allocation per lookup on the hot path when the clock is the real one.
    this.#now = clock === systemClock ? Date.now : () => clock.now().getTime();
  }

  /** The tenant's entry, moved to the most recent end. */
  #touch(tenantId: string): TenantEntry | undefined {
    const e = this.#tenants.get(tenantId);
    if (e !== undefined) this.#moveToRecent(tenantId, e);
    return e;
  }

  /** Move an entry already looked up to the most recent end (no second lookup on the hot path). */
  #moveToRecent(tenantId: string, e: TenantEntry): void {
    // Re-inserting moves it to the most recent end; skipped while the same tenant is used again (a
    // request sealing several values), which saves the map's delete/insert churn.
    if (tenantId === this.#mru) return;
    this.#tenants.delete(tenantId);
    this.#tenants.set(tenantId, e);
    this.#mru = tenantId;
  }

  primary(tenantId: string): KeyMaterial | undefined {
    const e = this.#tenants.get(tenantId);
    const s = e?.primary;
    if (s === undefined) return undefined;
    if (s.expires <= this.#now()) return this.#expireSlot(tenantId, 'primary');
    this.#moveToRecent(tenantId, e!);
    return s.value;
  }

  index(tenantId: string): IndexKeyMaterial | undefined {
    const e = this.#tenants.get(tenantId);
    const s = e?.index;
    if (s === undefined) return undefined;
    if (s.expires <= this.#now()) return this.#expireSlot(tenantId, 'index');
    this.#moveToRecent(tenantId, e!);
    return s.value;
  }

  key(tenantId: string, keyId: string): KeyMaterial | undefined {
    const e = this.#tenants.get(tenantId);
    const s = e?.byId.get(keyId);
    if (s === undefined) return undefined;
    const now = this.#now();
    if (s.expires <= now) {
      e!.byId.delete(keyId);
      // The same key, expired in the primary slot too, goes with it: otherwise a sweep or a primary
      // lookup before the key is loaded again would count the one key a second time.
      if (e!.primary?.value.keyId === keyId && e!.primary.expires <= now) e!.primary = undefined;
      this.#options.onEvict?.('expired', 1);
      this.#dropIfEmpty(tenantId, e!);
      return undefined;
    }
    this.#moveToRecent(tenantId, e!);
    return s.value;
  }

  /** Cache a tenant's primary data key (also under its key id). */
  setPrimary(m: KeyMaterial): void {
    const e = this.#entry(m.tenantId);
    e.primary = { value: m, expires: this.#now() + this.#options.ttlMs };
    this.#putKey(e, m);
  }

  setIndex(m: IndexKeyMaterial): void {
    this.#entry(m.tenantId).index = { value: m, expires: this.#now() + this.#options.ttlMs };
  }

  /** Cache a data key by its id. */
  setKey(m: KeyMaterial): void {
    this.#putKey(this.#entry(m.tenantId), m);
  }

  #putKey(e: TenantEntry, m: KeyMaterial): void {
    e.byId.delete(m.keyId);
    e.byId.set(m.keyId, { value: m, expires: this.#now() + this.#options.ttlMs });
    if (e.byId.size > MAX_KEYS_PER_TENANT) {
      e.byId.delete(e.byId.keys().next().value as string);
      this.#options.onEvict?.('capacity', 1);
    }
  }

  /** The tenant's entry (created, most recent), evicting the least recently used tenants beyond the bound. */
  #entry(tenantId: string): TenantEntry {
    let e = this.#touch(tenantId);
    if (e === undefined) {
      e = { byId: new Map() };
      this.#tenants.set(tenantId, e);
      this.#mru = tenantId;
      while (this.#tenants.size > this.#options.maxTenants) {
        const [oldest, entry] = this.#tenants.entries().next().value as [string, TenantEntry];
        this.#tenants.delete(oldest);
        this.#options.onEvict?.('capacity', keysOf(entry));
      }
      this.#startSweeping();
    }
    return e;
  }

  #expireSlot(tenantId: string, slot: 'primary' | 'index'): undefined {
    const e = this.#tenants.get(tenantId)!;
    const sameKey = slot === 'primary' && e.byId.has(e.primary!.value.keyId);
    e[slot] = undefined;
    if (!sameKey) this.#options.onEvict?.('expired', 1);
    this.#dropIfEmpty(tenantId, e);
    return undefined;
  }

  #dropIfEmpty(tenantId: string, e: TenantEntry): void {
    if (e.primary === undefined && e.index === undefined && e.byId.size === 0) {
      this.#tenants.delete(tenantId);
      if (this.#tenants.size === 0) this.#stopSweeping();
    }
  }

  /** Drop one purpose's primary slot of a tenant (after a rotation), keeping its keys by id. */
  deletePrimary(tenantId: string, purpose: 'encrypt' | 'index'): void {
    const e = this.#tenants.get(tenantId);
    if (e === undefined) return;
    if (purpose === 'encrypt') e.primary = undefined;
    else e.index = undefined;
    this.#dropIfEmpty(tenantId, e);
  }

  /** Drop one key of a tenant (after it was retired). */
  deleteKey(tenantId: string, keyId: string): void {
    const e = this.#tenants.get(tenantId);
    if (e === undefined) return;
    e.byId.delete(keyId);
    if (e.primary?.value.keyId === keyId) e.primary = undefined;
    this.#dropIfEmpty(tenantId, e);
  }

  /** Drop everything cached for a tenant. */
  deleteTenant(tenantId: string): void {
    this.#tenants.delete(tenantId);
    if (this.#tenants.size === 0) this.#stopSweeping();
  }

  /** Drop every expired key now (the timer calls this; no read needed). */
  sweep(): void {
    const now = this.#now();
    let expired = 0;
    for (const [tenantId, e] of this.#tenants) {
      if (e.primary !== undefined && e.primary.expires <= now) {
        // The primary is usually also cached by id: count each key once.
        if (!e.byId.has(e.primary.value.keyId)) expired++;
        e.primary = undefined;
      }
      if (e.index !== undefined && e.index.expires <= now) {
        e.index = undefined;
        expired++;
      }
      for (const [kid, s] of e.byId) {
        if (s.expires <= now) {
          e.byId.delete(kid);
          expired++;
        }
      }
      if (e.primary === undefined && e.index === undefined && e.byId.size === 0)
        this.#tenants.delete(tenantId);
    }
    if (expired > 0) this.#options.onEvict?.('expired', expired);
    if (this.#tenants.size === 0) this.#stopSweeping();
  }

  #startSweeping(): void {
    if (this.#timer !== undefined) return;
    // The timer holds the cache weakly: a keyring the application dropped is collected at once, and its
    // timer then stops itself.
    const ref = new WeakRef(this);
    const timer: ReturnType<typeof setInterval> = setInterval(() => {
      const cache = ref.deref();
      if (cache === undefined) clearInterval(timer);
      else cache.sweep();
    }, this.#options.sweepIntervalMs);
    timer.unref?.();
    this.#timer = timer;
  }

  #stopSweeping(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  clear(): void {
    this.#tenants.clear();
    this.#stopSweeping();
  }

  /** Tenants with at least one cached key. */
  get tenants(): number {
    return this.#tenants.size;
  }

  /** Distinct cached keys (a primary counts once with its key id). */
  get keys(): number {
    let n = 0;
    for (const e of this.#tenants.values()) n += keysOf(e);
    return n;
  }
}

/** Keys held by an entry: keys by id, plus the primary if it is not among them, plus the index key. */
function keysOf(e: TenantEntry): number {
  const p = e.primary !== undefined && !e.byId.has(e.primary.value.keyId) ? 1 : 0;
  return e.byId.size + p + (e.index === undefined ? 0 : 1);
}
