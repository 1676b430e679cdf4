import type { ChainedEvent } from '../event.js';
import type { AuditSink, SinkCapabilities } from '../sink.js';

/** Options of {@link createFanOutSink}. */
export interface FanOutSinkOptions {
  /**
   * The sink reads go to (verify, query, export, checkpoints). Its chain is what `verify` checks.
   * @default the first readable sink
   */
  primary?: AuditSink;
}

/**
 * Write every batch to several sinks at once (e.g. PostgreSQL for the record, stdout for the log
 * pipeline). A batch is accepted only when every sink stored it; if one fails, the batch is
 * reported failed (callers may then retry with `mayBeDuplicate`, which readable sinks honour).
 * Each sink keeps its own chain; reads go to the primary sink.
 * @example const sink = createFanOutSink([pgSink, createStdoutSink()]);
 */
export function createFanOutSink(sinks: readonly AuditSink[], options: FanOutSinkOptions = {}): AuditSink {
  if (sinks.length === 0) throw new TypeError('createFanOutSink needs at least one sink');
  const primary = options.primary ?? sinks.find((s) => s.capabilities.readable) ?? sinks[0]!;
  const capabilities: SinkCapabilities = Object.freeze({ ...primary.capabilities });
  const bind = <K extends keyof AuditSink>(k: K) => {
    const f = primary[k];
    return typeof f === 'function' ? (f as (...a: unknown[]) => unknown).bind(primary) : undefined;
  };
  return {
    name: `fan-out(${sinks.map((s) => s.name).join(',')})`,
    capabilities,
    async append(events, opts): Promise<ChainedEvent[]> {
      const results = await Promise.allSettled(sinks.map((s) => s.append(events, opts)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const fromPrimary = results[sinks.indexOf(primary)];
      return fromPrimary?.status === 'fulfilled' ? fromPrimary.value : [];
    },
    head: bind('head') as AuditSink['head'],
    readChain: bind('readChain') as AuditSink['readChain'],
    query: bind('query') as AuditSink['query'],
    putCheckpoint: bind('putCheckpoint') as AuditSink['putCheckpoint'],
    listCheckpoints: bind('listCheckpoints') as AuditSink['listCheckpoints'],
    async close() {
      await Promise.all(sinks.map((s) => s.close?.()));
    },
  };
}
