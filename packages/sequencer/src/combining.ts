import { runWithoutContext } from '@tenantry/core';
import { metrics } from '@opentelemetry/api';
import { z } from 'zod';

/**
 * Bounds of the combining mode of `withNumber` (PostgreSQL): concurrent requests for the same
 * (tenant, series, period) that arrive while this process's transaction holds the series are queued and
 * served together in the next transaction, each in its own savepoint. With both bounds at their minimum
 * (`maxGroupSize: 1`, `maxWaitMs: 0`) nothing is combined: every request runs its own transaction.
 */
export const CombineOptionsSchema = z
  .object({
    /**
     * The largest group served by one transaction. A group holds the counter row for the sum of its
     * writes, so a bigger group delays other processes' groups of the same series longer.
     * @default 32
     */
    maxGroupSize: z.number().int().min(1).max(1_000).default(32),
    /**
     * How long a request that finds the series idle in this process waits for others to join its group
     * before the group starts (it starts at once when the group is full). 0: never wait on purpose;
     * requests still combine when they arrive while a transaction of the series is running.
     * @default 0
     */
    maxWaitMs: z.number().int().min(0).max(1_000).default(0),
  })
  .strict();

/** Input type of {@link CombineOptionsSchema}. */
export type CombineOptions = z.input<typeof CombineOptionsSchema>;

/** One queued request. @internal */
export interface Queued {
  /** `performance.now()` when the request was queued. */
  readonly queuedAt: number;
}

type Histogram = ReturnType<ReturnType<typeof metrics.getMeter>['createHistogram']>;
let instruments: { provider: unknown; size: Histogram; wait: Histogram } | undefined;

/**
 * The group-size and wait histograms, from the meter `@tenantry/sequencer` of the global meter provider
 * as it is now: unlike tracing, `@opentelemetry/api` has no proxy meter provider, so instruments made
 * before the host registers its SDK would stay no-ops. Re-made when the provider changes. @internal
 */
export function groupInstruments(): { size: Histogram; wait: Histogram } {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider !== provider) {
    const meter = provider.getMeter('@tenantry/sequencer');
    instruments = {
      provider,
      size: meter.createHistogram('tenantry.sequencer.group.size', {
        description: 'Requests served together by one transaction (combining mode of withNumber)',
        unit: '{request}',
        advice: { explicitBucketBoundaries: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000] },
      }),
      wait: meter.createHistogram('tenantry.sequencer.group.wait', {
        description:
          'Time a request waited before the transaction serving it began (combining mode of withNumber)',
        unit: 'ms',
      }),
    };
  }
  return instruments;
}

interface KeyQueue<R extends Queued> {
  items: R[];
  running: boolean;
  wake: (() => void) | undefined;
}

/**
 * Per-key request queues of one process. A queue is drained by one runner at a time: it takes up to
 * `maxGroupSize` requests (waiting up to `maxWaitMs` from the oldest one's arrival for the group to fill)
 * and hands them to `serve`, which must settle every request of the group and never reject. Requests that
 * arrive while a group is being served wait for the next group. Runners run outside any tenant context:
 * `serve` runs each request's own callback in the context captured when it was queued.
 * @internal
 */
export class Combiner<R extends Queued> {
  readonly #queues = new Map<string, KeyQueue<R>>();
  readonly #max: number;
  readonly #waitMs: number;
  readonly #serve: (group: R[]) => Promise<void>;

  constructor(options: { maxGroupSize: number; maxWaitMs: number }, serve: (group: R[]) => Promise<void>) {
    this.#max = options.maxGroupSize;
    this.#waitMs = options.maxWaitMs;
    this.#serve = serve;
  }

  /** Queue `request` under `key`; it is served by a later call of `serve`. */
  submit(key: string, request: R): void {
    let q = this.#queues.get(key);
    if (q === undefined) {
      q = { items: [], running: false, wake: undefined };
      this.#queues.set(key, q);
    }
    q.items.push(request);
    if (q.items.length >= this.#max) q.wake?.();
    if (!q.running) {
      q.running = true;
      const queue = q;
      runWithoutContext(() => void this.#drain(key, queue));
    }
  }

  async #drain(key: string, q: KeyQueue<R>): Promise<void> {
    try {
      while (q.items.length > 0) {
        const oldest = q.items[0] as R;
        const left = oldest.queuedAt + this.#waitMs - performance.now();
        if (left > 0 && q.items.length < this.#max) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, left);
            q.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          q.wake = undefined;
        }
        const group = q.items.splice(0, this.#max);
        const began = performance.now();
        const { size, wait } = groupInstruments();
        size.record(group.length);
        for (const r of group) wait.record(began - r.queuedAt);
        await this.#serve(group);
      }
    } finally {
      q.running = false;
      if (this.#queues.get(key) === q && q.items.length === 0) this.#queues.delete(key);
    }
  }
}
