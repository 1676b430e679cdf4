import { isTenantryError } from '@tenantry/core';
import { AuditError } from './errors.js';
import type { ChainedEvent } from './event.js';
import type { AuditSink, SinkCapabilities } from './audit-sink.js';

/** Options of {@link createFanOutSink}. */
export interface FanOutSinkOptions {
  /**
   * The sink reads go to (verify, query, export, checkpoints). Its chain is what `verify` checks.
   * @default the first readable sink
   */
  primary?: AuditSink;
}

/**
 * A combinator, not a backend (so it lives in the root export): write every batch to several sinks
 * at once (e.g. PostgreSQL for the record, stdout for the log pipeline). A batch is accepted only when every sink stored it; if one fails, the batch is
 * reported failed (callers may then retry with `mayBeDuplicate`, which readable sinks honour).
 * Each sink keeps its own chain; reads go to the primary sink.
 * @throws ValidationError `VALIDATION_FAILED` without sinks, or with a `primary` that is not one of them
 * @example const sink = createFanOutSink([new PostgresAuditSink({ pool }), new StdoutAuditSink()]);
 */
export function createFanOutSink(sinks: readonly AuditSink[], options: FanOutSinkOptions = {}): AuditSink {
  if (!Array.isArray(sinks) || sinks.length === 0 || sinks.some((s) => typeof s?.append !== 'function')) {
    throw new AuditError('VALIDATION_FAILED', 'createFanOutSink needs a non-empty array of sinks', {
      details: { what: 'fan-out sinks' },
    });
  }
  const primary = options.primary ?? sinks.find((s) => s.capabilities.readable) ?? sinks[0]!;
  if (!sinks.includes(primary)) {
    throw new AuditError('VALIDATION_FAILED', 'The primary sink of a fan-out must be one of its sinks', {
      details: { what: 'fan-out primary' },
    });
  }
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
      if (failed) {
        throw isTenantryError(failed.reason)
          ? failed.reason
          : new AuditError('AUDIT_WRITE_FAILED', 'A sink of the fan-out failed to store the batch', {
              cause: failed.reason,
              details: { sink: sinks[results.indexOf(failed)]?.name },
            });
      }
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
