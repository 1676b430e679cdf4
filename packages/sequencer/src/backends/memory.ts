import { TenantryError } from '@tenantry/core';
import { assertChange, assertCounterKey } from '../counter-store.js';
import { randomUUID } from 'node:crypto';
import {
  alreadyVoided,
  type CounterState,
  type CounterStore,
  checkVoid,
  conflict,
  fenced,
  type VoidRecord,
} from '../counter-store.js';
import {
  type AcquireOptions,
  counterResource,
  type LockBackend,
  type LockLease,
  lockTimeout,
} from '../lock-backend.js';
import type { CounterKey } from '../series.js';

interface Entry {
  mark: number | null;
  fence: number;
  lastIssueDate: string | null;
  voids: Map<number, VoidRecord>;
}

/**
 * In-process counter store with the same semantics as the others (it passes the same conformance
 * suite). State lives in this object: one process only, lost on exit — for tests and quick starts.
 * @example const store = new MemoryCounterStore();
 */
export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory';
  readonly capabilities = Object.freeze({ sharesTransactionWithDocuments: false, ownsConnection: false });
  readonly #entries = new Map<string, Entry>();

  #entry(key: CounterKey): Entry {
    const id = counterResource(key);
    let e = this.#entries.get(id);
    if (!e) {
      e = { mark: null, fence: 0, lastIssueDate: null, voids: new Map() };
      this.#entries.set(id, e);
    }
    return e;
  }

  async read(key: CounterKey, fence: number): Promise<CounterState> {
    assertCounterKey(key);
    assertChange({ fence }, ['fence']);
    const e = this.#entry(key);
    if (fence < e.fence) throw fenced(key, fence, e.fence);
    e.fence = fence;
    return { mark: e.mark, lastIssueDate: e.lastIssueDate };
  }

  async peek(key: CounterKey): Promise<CounterState> {
    assertCounterKey(key);
    const e = this.#entries.get(counterResource(key));
    return { mark: e?.mark ?? null, lastIssueDate: e?.lastIssueDate ?? null };
  }

  async advance(
    key: CounterKey,
    change: { from: number | null; to: number; fence: number; issueDate?: string | undefined },
  ): Promise<void> {
    assertCounterKey(key);
    assertChange(change, ['from', 'to', 'fence', 'issueDate']);
    const e = this.#entry(key);
    if (change.fence < e.fence) throw fenced(key, change.fence);
    if (e.mark !== change.from) throw conflict(key);
    e.fence = change.fence;
    e.mark = change.to;
    if (change.issueDate !== undefined && (e.lastIssueDate === null || change.issueDate > e.lastIssueDate)) {
      e.lastIssueDate = change.issueDate;
    }
  }

  async recover(key: CounterKey, change: { committed: number | null; fence: number }): Promise<CounterState> {
    assertCounterKey(key);
    assertChange(change, ['committed', 'fence']);
    const e = this.#entry(key);
    if (change.fence < e.fence) throw fenced(key, change.fence);
    e.fence = change.fence;
    if (change.committed !== null && (e.mark === null || change.committed > e.mark))
      e.mark = change.committed;
    return { mark: e.mark, lastIssueDate: e.lastIssueDate };
  }

  async recordVoid(key: CounterKey, record: VoidRecord): Promise<void> {
    assertCounterKey(key);
    assertChange(record, ['number', 'record']);
    const e = this.#entry(key);
    checkVoid(key, e.mark, record.number);
    if (e.voids.has(record.number)) throw alreadyVoided(key, record.number);
    e.voids.set(record.number, record);
  }

  async listVoids(key: CounterKey): Promise<VoidRecord[]> {
    assertCounterKey(key);
    const e = this.#entries.get(counterResource(key));
    return [...(e?.voids.values() ?? [])].sort((a, b) => a.number - b.number);
  }
}

interface Held {
  token: string;
  expiresAt: number;
}

/**
 * In-process lock backend: TTL leases with monotonic fencing tokens per counter. One process only.
 * @example const lock = new MemoryLockBackend();
 */
export class MemoryLockBackend implements LockBackend {
  readonly kind = 'memory';
  readonly #held = new Map<string, Held>();
  readonly #fences = new Map<string, number>();
  readonly #now: () => number;

  /** @param options.now millisecond time source for TTLs @default Date.now */
  constructor(options: { now?: () => number } = {}) {
    let now: unknown;
    try {
      now = options?.now;
    } catch {
      now = null;
    }
    if (now !== undefined && typeof now !== 'function') {
      throw new TenantryError('VALIDATION_FAILED', 'Invalid memory lock options', {
        details: { what: 'MemoryLockBackend', issues: [{ path: ['now'], message: 'expected a function' }] },
      });
    }
    this.#now = (now as (() => number) | undefined) ?? Date.now;
  }

  async acquire(key: CounterKey, options: AcquireOptions): Promise<LockLease> {
    assertCounterKey(key);
    assertChange(options, ['ttlMs', 'waitMs']);
    const id = counterResource(key);
    const deadline = this.#now() + options.waitMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
      const h = this.#held.get(id);
      const now = this.#now();
      if (!h || h.expiresAt <= now) {
        // Microsecond wall-clock floor: tokens keep growing across process restarts, so a memory lock
        // never hands out a token lower than one a persistent counter store has already seen.
        const fence = Math.max((this.#fences.get(id) ?? 0) + 1, Math.floor(this.#now() * 1000));
        this.#fences.set(id, fence);
        const token = randomUUID();
        this.#held.set(id, { token, expiresAt: now + options.ttlMs });
        return this.#lease(id, token, fence);
      }
      if (now >= deadline) throw lockTimeout(key, options.waitMs);
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - now))));
    }
  }

  #lease(id: string, token: string, fence: number): LockLease {
    return Object.freeze({
      fence,
      reseed: async (above: number) => {
        const h = this.#held.get(id);
        if (!h || h.token !== token || h.expiresAt <= this.#now()) return null;
        const next = Math.max(this.#fences.get(id) ?? 0, above) + 1;
        this.#fences.set(id, next);
        return this.#lease(id, token, next);
      },
      renew: async (ttlMs: number) => {
        const h = this.#held.get(id);
        if (!h || h.token !== token || h.expiresAt <= this.#now()) return false;
        h.expiresAt = this.#now() + ttlMs;
        return true;
      },
      release: async () => {
        if (this.#held.get(id)?.token === token) this.#held.delete(id);
      },
    });
  }
}
