import type { PolicySet } from './policy.js';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The latest policy set of each tenant, as `request()` last read it; the least recently used tenant
 * goes first when `capacity` is reached (0: nothing is kept). Internal: sound only with a store whose
 * insert checks the policy version (`capabilities.policyVersionCheck`), so a set that is no longer the
 * latest is refused at the insert and read again, never recorded on a request. Entries are frozen:
 * requests share their policy objects with the cache, so no caller can alter the cached set.
 */
export class PolicyCache {
  readonly #sets = new Map<string, PolicySet | null>();

  constructor(readonly capacity: number) {}

  /** Tenants held now (at most `capacity`). */
  get size(): number {
    return this.#sets.size;
  }

  /** The cached set (`null`: the tenant has none), or `undefined` when not cached. */
  get(tenantId: string): PolicySet | null | undefined {
    const set = this.#sets.get(tenantId);
    if (set === undefined) return undefined;
    // Map order is insertion order: re-inserting makes this tenant the most recently used.
    this.#sets.delete(tenantId);
    this.#sets.set(tenantId, set);
    return set;
  }

  /** Keep `set` as the tenant's latest, unless a newer version is held (a slower read lost the race). */
  remember(tenantId: string, set: PolicySet | null): void {
    if (this.capacity === 0) return;
    const held = this.#sets.get(tenantId);
    if (held && (set === null || held.version > set.version)) return;
    this.#sets.delete(tenantId);
    this.#sets.set(tenantId, set === null ? null : deepFreeze(set));
    if (this.#sets.size > this.capacity) {
      const oldest = this.#sets.keys().next();
      if (!oldest.done) this.#sets.delete(oldest.value);
    }
  }

  /** Drop the tenant's entry (the store refused it as stale). */
  forget(tenantId: string): void {
    this.#sets.delete(tenantId);
  }
}
