import { type Clock, systemClock } from '@tenantry/core';

/**
 * A bounded LRU cache with a time-to-live, for unwrapped key material. Reads refresh recency, not
 * expiry: an entry is dropped `ttlMs` after it was stored, however often it is read, so a key deleted
 * elsewhere (crypto-shredding) stops working here within the TTL. Entries are not zeroed on eviction
 * (an operation in flight may still hold them); they are left to the garbage collector.
 * @internal
 */
export class KeyCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #now: () => number;
  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    clock: Clock,
  ) {
    // Date.now() avoids a Date allocation per lookup on the hot path when the clock is the real one.
    this.#now = clock === systemClock ? Date.now : () => clock.now().getTime();
  }

  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.expires <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // Move to the most-recent end.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e.value;
  }

  set(key: string, value: V): void {
    const old = this.#entries.get(key);
    if (old !== undefined) this.#entries.delete(key);
    this.#entries.set(key, { value, expires: this.#now() + this.ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** Drop entries whose key starts with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const k of [...this.#entries.keys()]) if (k.startsWith(prefix)) this.#entries.delete(k);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
