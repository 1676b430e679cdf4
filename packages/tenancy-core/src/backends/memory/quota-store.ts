import {
  QuotaConsumeRequestSchema,
  type QuotaConsumeRequest,
  type QuotaConsumeResult,
  type QuotaCounterRef,
  type QuotaStore,
} from '../../platform/quotas/quota-store.js';
import { parseInput } from '../../kernel/validation.js';

interface Counter {
  used: number;
  expiresAt: number;
}

/**
 * Quota counters in this process's memory: a real implementation with the same semantics as the
 * others (it passes the same conformance suite), for tests, quick starts and single-process apps.
 * Counters are not shared between processes. Expired counters are swept as new ones are created.
 * @example const quotas = createQuotas({ store: new MemoryQuotaStore(), quotas: { emails: { window: 'day', defaultLimit: 100 } } });
 */
export class MemoryQuotaStore implements QuotaStore {
  readonly kind = 'memory';
  readonly #counters = new Map<string, Counter>();
  #sweepAt = 1024;

  #key(ref: QuotaCounterRef): string {
    return `${ref.tenantId}\u0000${ref.quota}\u0000${ref.windowStart}`;
  }

  #live(key: string, now: number): Counter | undefined {
    const c = this.#counters.get(key);
    if (c && c.expiresAt <= now) {
      this.#counters.delete(key);
      return undefined;
    }
    return c;
  }

  #sweep(now: number): void {
    if (this.#counters.size < this.#sweepAt) return;
    for (const [k, c] of this.#counters) if (c.expiresAt <= now) this.#counters.delete(k);
    this.#sweepAt = Math.max(1024, this.#counters.size * 2);
  }

  async consume(request: QuotaConsumeRequest): Promise<QuotaConsumeResult> {
    const r = parseInput(QuotaConsumeRequestSchema, request, 'quota consume request');
    const key = this.#key(r);
    // Check and add run in one synchronous step, so concurrent calls in this process are atomic.
    const c = this.#live(key, r.now);
    const used = c?.used ?? 0;
    if (used + r.amount > r.limit) return { granted: false, used };
    if (c) {
      c.used += r.amount;
    } else {
      this.#sweep(r.now);
      this.#counters.set(key, { used: r.amount, expiresAt: r.expiresAt });
    }
    return { granted: true, used: used + r.amount };
  }

  async peek(ref: QuotaCounterRef, now: number): Promise<number> {
    return this.#live(this.#key(ref), now)?.used ?? 0;
  }

  async refund(ref: QuotaCounterRef, amount: number, now: number): Promise<number> {
    const c = this.#live(this.#key(ref), now);
    if (!c) return 0;
    c.used = Math.max(0, c.used - amount);
    return c.used;
  }
}
