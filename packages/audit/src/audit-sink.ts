import type { ChainHead } from './chain.js';
import type { Checkpoint } from './checkpoint.js';
import type { ChainedEvent, PreparedEvent } from './event.js';

/** What a sink can do, declared so the log checks capabilities instead of guessing. */
export interface SinkCapabilities {
  /** Events can be read back (verify, query, export). `false` for write-only sinks such as stdout. */
  readonly readable: boolean;
  /**
   * The chain is shared by every process writing to the store (PostgreSQL, MongoDB). `false` when
   * each process keeps its own chain (stdout: one chain per process and chain key).
   */
  readonly sharedChain: boolean;
  /** Signed checkpoints can be stored and listed. */
  readonly checkpoints: boolean;
}

/** Options of {@link AuditSink.append}. */
export interface AppendOptions {
  /**
   * The batch may hold events already stored (a retry after an ambiguous failure, or a spool replay):
   * the sink skips events whose id it already holds, so nothing is stored twice. @default false
   */
  mayBeDuplicate?: boolean;
}

/** A filter for {@link AuditSink.query}, already validated. Results are in sequence order. */
export interface SinkQuery {
  readonly chain: string;
  /** Only events with `seq > afterSeq` (the cursor). */
  readonly afterSeq: number;
  readonly limit: number;
  /** `occurredAt >= from` (epoch ms). */
  readonly from?: number;
  /** `occurredAt < to` (epoch ms). */
  readonly to?: number;
  readonly actorId?: string;
  readonly action?: string;
  readonly target?: { readonly type: string; readonly id?: string };
}

/**
 * Where events are stored: the one backend interface of the audit log, proven by the conformance
 * suite in `@tenantry/audit/testing`. A sink assigns sequence numbers and hashes itself, under its
 * per-chain serialisation, because only the store knows the chain's head.
 *
 * The interface has no update or delete (invariant A1).
 */
export interface AuditSink {
  /** A short name for logs, e.g. `postgres`. */
  readonly name: string;
  readonly capabilities: SinkCapabilities;
  /**
   * Store a batch (events of any chains, in order). Resolves with the stored events once they are
   * durable in the sink; rejects if nothing was stored. Per chain, events keep the batch order.
   */
  append(events: readonly PreparedEvent[], options?: AppendOptions): Promise<ChainedEvent[]>;
  /** The last event of a chain (readable sinks). */
  head?(chain: string): Promise<ChainHead | null>;
  /** Events of a chain with `afterSeq < seq <= toSeq`, in sequence order, at most `limit` (readable sinks). */
  readChain?(chain: string, afterSeq: number, limit: number, toSeq?: number): Promise<ChainedEvent[]>;
  /** Events matching a filter, in sequence order, at most `limit` (readable sinks). */
  query?(query: SinkQuery): Promise<ChainedEvent[]>;
  /** Store a signed checkpoint (sinks with `checkpoints`). */
  putCheckpoint?(checkpoint: Checkpoint): Promise<void>;
  /** Checkpoints of a chain in sequence order (sinks with `checkpoints`). */
  listCheckpoints?(chain: string): Promise<Checkpoint[]>;
  /** Release what the sink owns (never the user's pool or client). */
  close?(): Promise<void>;
}

/** A sink that can be read back. */
export type ReadableAuditSink = AuditSink &
  Required<Pick<AuditSink, 'head' | 'readChain' | 'query' | 'putCheckpoint' | 'listCheckpoints'>>;

/** Whether `sink` declares and implements reading. */
export function isReadable(sink: AuditSink): sink is ReadableAuditSink {
  // Anything that is not a sink is not a readable sink.
  if (typeof sink !== 'object' || sink === null) return false;
  const capabilities: unknown = sink.capabilities;
  return (
    typeof capabilities === 'object' &&
    capabilities !== null &&
    (capabilities as SinkCapabilities).readable === true &&
    typeof sink.head === 'function' &&
    typeof sink.readChain === 'function' &&
    typeof sink.query === 'function' &&
    typeof sink.putCheckpoint === 'function' &&
    typeof sink.listCheckpoints === 'function'
  );
}

/** Whether an event (its canonical body) matches a query's filters other than chain and cursor. */
export function matchesQuery(
  body: {
    occurredAt: number;
    actor: { id: string };
    action: string;
    targets: ReadonlyArray<{ type: string; id?: string }>;
  },
  q: SinkQuery,
): boolean {
  if (q.from !== undefined && body.occurredAt < q.from) return false;
  if (q.to !== undefined && body.occurredAt >= q.to) return false;
  if (q.actorId !== undefined && body.actor.id !== q.actorId) return false;
  if (q.action !== undefined && body.action !== q.action) return false;
  if (q.target !== undefined) {
    const t = q.target;
    if (!body.targets.some((x) => x.type === t.type && (t.id === undefined || x.id === t.id))) return false;
  }
  return true;
}
