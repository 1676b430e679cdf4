import { type Clock, systemClock } from '@tenantry/core';
import { type ChainHead, EMPTY_HEAD, chainBatch, groupByChain, microsFromMillis } from '../chain.js';
import type { Checkpoint } from '../checkpoint.js';
import type { AuditEventBody, ChainedEvent, PreparedEvent } from '../event.js';
import {
  type AppendOptions,
  type ReadableAuditSink,
  type SinkCapabilities,
  type SinkQuery,
  matchesQuery,
} from '../audit-sink.js';
import { checkClock, optionsOf } from '../guards.js';

interface StoredChain {
  // Only the chained events are kept (not a copy of each body): the text is what was stored and
  // hashed, and queries read their fields from it. Fewer objects per event for the GC to trace.
  events: ChainedEvent[];
  ids: Set<string>;
  checkpoints: Checkpoint[];
}

/** Options of {@link MemoryAuditSink}. */
export interface MemoryAuditSinkOptions {
  /** Clock for the store time. @default systemClock */
  clock?: Clock;
}

const headOf = (c: StoredChain): ChainHead | null => {
  const last = c.events[c.events.length - 1];
  return last ? { seq: last.seq, hash: last.hash, recordedAt: last.recordedAt } : null;
};

/**
 * An in-memory sink with the same semantics as the database sinks (it passes the same conformance
 * suite): per-chain sequence and hash chain, idempotent replays, queries, checkpoints. Events live
 * as long as the process; for tests, quick starts and single-process tools.
 * @example const log = createAuditLog({ sink: new MemoryAuditSink() });
 */
export class MemoryAuditSink implements ReadableAuditSink {
  readonly name = 'memory';
  readonly capabilities: SinkCapabilities = Object.freeze({
    readable: true,
    sharedChain: true,
    checkpoints: true,
  });
  readonly #clock: Clock;
  readonly #chains = new Map<string, StoredChain>();

  /** @throws ValidationError `VALIDATION_FAILED` for options that are not an object, or a clock without `now()` */
  constructor(options: MemoryAuditSinkOptions = {}) {
    const opts = optionsOf(options, 'memory audit sink options');
    this.#clock = checkClock(opts.clock, 'memory audit sink options') ?? systemClock;
  }

  #get(chain: string): StoredChain {
    let c = this.#chains.get(chain);
    if (!c) {
      c = { events: [], ids: new Set(), checkpoints: [] };
      this.#chains.set(chain, c);
    }
    return c;
  }

  async append(events: readonly PreparedEvent[], opts: AppendOptions = {}): Promise<ChainedEvent[]> {
    const stored: ChainedEvent[] = [];
    for (const [chain, group] of groupByChain(events)) {
      const c = this.#get(chain);
      const seen = new Set<string>();
      const fresh = group.filter((e) => {
        if (seen.has(e.id) || (opts.mayBeDuplicate && c.ids.has(e.id))) return false;
        seen.add(e.id);
        return true;
      });
      const linked = chainBatch(
        headOf(c) ?? EMPTY_HEAD,
        fresh,
        microsFromMillis(this.#clock.now().getTime()),
      );
      for (const e of linked) {
        c.events.push(e);
        c.ids.add(e.id);
        stored.push(e);
      }
    }
    return stored;
  }

  async head(chain: string): Promise<ChainHead | null> {
    const c = this.#chains.get(chain);
    return c ? headOf(c) : null;
  }

  async readChain(chain: string, afterSeq: number, limit: number, toSeq?: number): Promise<ChainedEvent[]> {
    const c = this.#chains.get(chain);
    if (!c) return [];
    // seq n sits at index n - 1: the chain is dense by construction.
    const end = Math.min(c.events.length, toSeq ?? Number.POSITIVE_INFINITY, afterSeq + limit);
    return c.events.slice(Math.max(0, afterSeq), Math.max(afterSeq, end));
  }

  async query(q: SinkQuery): Promise<ChainedEvent[]> {
    const c = this.#chains.get(q.chain);
    if (!c) return [];
    const out: ChainedEvent[] = [];
    for (let i = Math.max(0, q.afterSeq); i < c.events.length && out.length < q.limit; i++) {
      const e = c.events[i]!;
      if (matchesQuery(JSON.parse(e.text) as AuditEventBody, q)) out.push(e);
    }
    return out;
  }

  async putCheckpoint(cp: Checkpoint): Promise<void> {
    const c = this.#get(cp.chain);
    c.checkpoints.push(structuredClone(cp));
    c.checkpoints.sort((a, b) => a.seq - b.seq || a.signedAt - b.signedAt);
  }

  async listCheckpoints(chain: string): Promise<Checkpoint[]> {
    return structuredClone(this.#chains.get(chain)?.checkpoints ?? []);
  }
}
