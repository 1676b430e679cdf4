import { type Clock, type Logger, noopLogger, systemClock, withSpan } from '@tenantry/core';
import { z } from 'zod';
import { type CounterState, type CounterStore, seenFenceOf, type VoidRecord } from './counter-store.js';
import { isDuplicateKeyError } from './duplicates.js';
import { SequencerError } from './errors.js';
import type { AcquireOptions, FusedLockedCounter, LockBackend, LockLease } from './lock-backend.js';
import type { IssueDateInput } from './period.js';
import {
  type AllocatedNumber,
  buildAllocations,
  type CounterKey,
  checkRange,
  resolveRequest,
  type Series,
  type TenantOption,
} from './series.js';
import { spanAttributes } from './telemetry.js';
import { parseVoid } from './void-request.js';
import { invalidInput, parseSequencerInput } from './input.js';

/** Tunables of {@link createLockedSequencer}. */
export const LockedSequencerOptionsSchema = z.object({
  /** Lease TTL in ms; renewed every `renewEveryMs` while the callback runs. @default 10000 */
  lockTtlMs: z.number().int().min(50).max(600_000).default(10_000),
  /** How long to wait for a busy series before `SEQUENCER_LOCK_TIMEOUT`. @default 5000 */
  lockWaitMs: z.number().int().min(0).max(600_000).default(5_000),
  /** Renewal interval in ms. @default lockTtlMs / 3 */
  renewEveryMs: z.number().int().min(10).optional(),
  /** Duplicate-and-recover rounds before `SEQUENCER_RECOVERY_FAILED`. @default 3 */
  maxRecoveries: z.number().int().min(0).max(20).default(3),
  /**
   * Keep the lease up to this long after an allocation succeeds, so that the next allocation of the
   * same series and period in this process skips the lock round trip (one round trip instead of two on
   * Redis). Only with a backend that is both lock and store and supports it (Redis). The mark is still
   * advanced, atomically with a check that the lease is held, before each allocation returns; the kept
   * lease is reused only while it is certainly unexpired by the local monotonic clock. Cost: other
   * processes wait for the series up to this long (and, if this process is killed while keeping the
   * lease, up to `lockTtlMs`, as with a kill during the callback). Call `close()` before closing the
   * client. `0` turns it off.
   * @default 0
   */
  keepLeaseMs: z.number().int().min(0).max(1_000).default(0),
  /** Hand a kept lease back once it has been held this long in all, so other processes get their turn. @default 50 */
  keepLeaseMaxMs: z.number().int().min(1).max(10_000).default(50),
});

/** Local-clock safety margin when reusing a kept lease (clock drift, timer lateness). */
const KEEP_MARGIN_MS = 25;

/** Configuration of {@link createLockedSequencer}. */
export interface LockedSequencerConfig {
  /** Serialises holders of one series and period. */
  lock: LockBackend;
  /** Keeps the committed high-water mark. May be the same object as `lock` (Redis: fused fast path). */
  store: CounterStore;
  /**
   * Reads the highest number committed in the document store for a counter (`null` if none). Called
   * when the document write reports a duplicate, to close the window where a holder committed its
   * document and crashed before advancing the mark. Required: it is what keeps S1/S2 true.
   */
  highestCommitted: (key: CounterKey) => Promise<number | null>;
  /** Whether an error thrown by the callback is the document store's unique violation. @default PG 23505, Mongo 11000, MySQL 1062 */
  isDuplicate?: (error: unknown) => boolean;
  /** @see LockedSequencerOptionsSchema */
  options?: z.input<typeof LockedSequencerOptionsSchema>;
  /** Time source for void records. @default systemClock */
  clock?: Clock;
  /** Warnings (e.g. a mark not advanced after a committed document). @default noopLogger */
  logger?: Logger;
}

/** What the callback receives beside its numbers. */
export interface HolderContext {
  /** The lease's fencing token; store it on the document if your store can check it. */
  readonly fence: number;
  /** Aborted when the lease is lost (renewal failed): stop and throw. */
  readonly signal: AbortSignal;
}

/** Options of one callback-form call (the tenant comes from the context unless named). */
export interface WithNumberOptions extends TenantOption {
  /** The document's issue date; required for periodic series, chronology and date tokens. */
  issueDate?: IssueDateInput;
}

/** The callback-form sequencer. */
export interface LockedSequencer {
  /**
   * Lock the series, hand the next number to `write` (which writes the document with it), advance the
   * mark only after `write` resolves, release. If `write` throws, nothing is consumed.
   * @throws SequencerError `SEQUENCER_LOCK_TIMEOUT`, `SEQUENCER_LOCK_LOST`, `SEQUENCER_CHRONOLOGY_VIOLATION`, `SEQUENCER_ISSUE_DATE_REQUIRED`, `SEQUENCER_RECOVERY_FAILED`
   * @example await seq.withNumber(invoices, { issueDate }, (n) => db.insert({ ...doc, number: n.number }));
   */
  withNumber<T>(
    series: Series,
    options: WithNumberOptions,
    write: (allocated: AllocatedNumber, holder: HolderContext) => Promise<T>,
  ): Promise<T>;
  /** Batch form: `count` consecutive numbers for one `write`, all or none. */
  withNumbers<T>(
    series: Series,
    options: WithNumberOptions & { count: number },
    write: (allocated: AllocatedNumber[], holder: HolderContext) => Promise<T>,
  ): Promise<T>;
  /** The last committed number of a series and period (after recovery from the document store). */
  lastCommitted(series: Series, options?: WithNumberOptions): Promise<number | null>;
  /** Record a void; the number stays consumed and is never reissued. */
  void(series: Series, number: number, options: WithNumberOptions & { reason: string }): Promise<VoidRecord>;
  /** Voids recorded for a series and period. */
  voids(series: Series, options?: WithNumberOptions): Promise<VoidRecord[]>;
  /**
   * Release every lease kept for back-to-back allocations (`keepLeaseMs`); call before closing the
   * client. A no-op when nothing is kept.
   * @example await seq.close(); redis.disconnect();
   */
  close(): Promise<void>;
}

/**
 * The holder context of one allocation. The AbortController is created only when the callback reads
 * `signal` (creating one per allocation was a large share of the fast path's CPU and garbage); a loss
 * is recorded in `lostReason` either way and checked before the write, before recovery and
 * (atomically, server-side) by the advance.
 */
class Holder implements HolderContext {
  lostReason: unknown;
  #controller: AbortController | undefined;
  constructor(readonly fence: number) {}
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.lostReason !== undefined) this.#controller.abort(this.lostReason);
    }
    return this.#controller.signal;
  }
  /** Record the loss of the lease (first reason wins) and abort the signal if it was handed out. */
  lose(reason: unknown): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.#controller?.abort(reason);
  }
}

/** Check the shape of the configuration (ports are structural: a missing method is a validation error). */
function checkConfig(config: unknown): asserts config is LockedSequencerConfig {
  let bad: string | undefined;
  try {
    const c = config as Partial<LockedSequencerConfig> | null;
    if (typeof c !== 'object' || c === null) bad = 'config';
    else if (typeof c.lock?.acquire !== 'function') bad = 'lock';
    else if (
      typeof c.store !== 'object' ||
      c.store === null ||
      !['read', 'peek', 'advance', 'recover', 'recordVoid', 'listVoids'].every(
        (m) => typeof (c.store as unknown as Record<string, unknown>)[m] === 'function',
      )
    )
      bad = 'store';
    else if (typeof c.highestCommitted !== 'function') bad = 'highestCommitted';
    else if (c.isDuplicate !== undefined && typeof c.isDuplicate !== 'function') bad = 'isDuplicate';
  } catch {
    bad = 'config';
  }
  if (bad !== undefined) throw invalidInput('locked sequencer configuration', undefined, [bad]);
}

const isFused = (x: unknown): x is FusedLockedCounter =>
  typeof (x as FusedLockedCounter).acquireAndRead === 'function' &&
  typeof (x as FusedLockedCounter).advanceAndRelease === 'function';

/**
 * The callback form, for document stores that cannot share a transaction with the counter (Redis as
 * counter, or Mongo without transactions). S1 relies on the document store's unique constraint on
 * (tenant, series, period, number); `highestCommitted` closes crash windows.
 * @throws ValidationError `VALIDATION_FAILED` on bad options
 * @example
 * const seq = createLockedSequencer({ lock: redisBackend, store: redisBackend, highestCommitted: (k) => maxNumberInDocs(k) });
 */
export function createLockedSequencer(config: LockedSequencerConfig): LockedSequencer {
  checkConfig(config);
  const o = parseSequencerInput(
    LockedSequencerOptionsSchema,
    config.options ?? {},
    'locked sequencer options',
  );
  const renewEvery = o.renewEveryMs ?? Math.max(10, Math.floor(o.lockTtlMs / 3));
  const isDuplicate = config.isDuplicate ?? isDuplicateKeyError;
  const clock = config.clock ?? systemClock;
  const logger = config.logger ?? noopLogger;
  const fused = config.lock === (config.store as unknown) && isFused(config.lock) ? config.lock : undefined;
  const { lock, store } = config;
  // Kept leases (keepLeaseMs): reused only within `reuseWindow` ms of the advance that reset their TTL,
  // which leaves the first renewal of the next callback (renewEvery later) inside the TTL with a margin.
  const reuseWindow = Math.min(o.keepLeaseMs, o.lockTtlMs - renewEvery - KEEP_MARGIN_MS);
  const keeper = fused?.advanceAndKeep !== undefined && reuseWindow > 0 ? fused : undefined;
  interface Kept {
    lease: LockLease;
    state: CounterState;
    /** performance.now() when the advance that reset the TTL was sent (the server reset it later). */
    sentAt: number;
    acquiredAt: number;
    timer: ReturnType<typeof setTimeout>;
  }
  const kept = new Map<string, Kept>();
  const idOf = (key: CounterKey): string => `${key.tenant}\u0000${key.series}\u0000${key.period}`;
  const releaseKept = (id: string): Promise<void> => {
    const k = kept.get(id);
    if (k === undefined) return Promise.resolve();
    kept.delete(id);
    clearTimeout(k.timer);
    return k.lease.release().catch(() => undefined);
  };
  const takeKept = (id: string): Kept | undefined => {
    const k = kept.get(id);
    if (k === undefined) return undefined;
    kept.delete(id);
    clearTimeout(k.timer);
    if (performance.now() - k.sentAt < reuseWindow) return k;
    // Too old to be sure it is still ours (a stalled event loop): hand it back and take a fresh one.
    void k.lease.release().catch(() => undefined);
    return undefined;
  };

  const run = async <T>(
    series: Series,
    options: WithNumberOptions & { count?: number },
    write: (allocated: AllocatedNumber[], holder: HolderContext) => Promise<T>,
  ): Promise<T> => {
    const req = resolveRequest(series, options);
    if (typeof write !== 'function') throw invalidInput('write callback', undefined, ['write']);
    return withSpan(
      'sequencer',
      req.count === 1 ? 'allocate' : 'batch',
      spanAttributes(req.key, req.count),
      () => allocate(series, req, write),
    );
  };

  const acquireSpan = <R>(key: CounterKey, fn: () => Promise<R>): Promise<R> =>
    withSpan('sequencer', 'lock.acquire', spanAttributes(key), fn);

  /**
   * Take the lock, then register its fence with the store and read the mark. When the store has seen a
   * higher fence than the lock backend handed out, the lock backend lost its state (a Redis failover or
   * flush): the store is the truth, so a holder that does hold the lock re-seeds the lock's fence above
   * the store's in one step (`LockLease.reseed`) and reads again. A stale holder cannot re-seed.
   */
  const acquireAndRead = async (
    key: CounterKey,
    acquire: AcquireOptions,
  ): Promise<{ lease: LockLease; state: CounterState }> => {
    let lease = await acquireSpan(key, () => lock.acquire(key, acquire));
    try {
      try {
        return { lease, state: await store.read(key, lease.fence) };
      } catch (e) {
        const seen = seenFenceOf(e);
        if (seen === undefined || lease.reseed === undefined) throw e;
        const reseeded = await withSpan('sequencer', 'lock.reseed', spanAttributes(key), async () =>
          lease.reseed?.(seen),
        );
        if (!reseeded) throw e;
        lease = reseeded;
        logger.warn(
          { tenant: key.tenant, series: key.series, period: key.period, fence: lease.fence, seenFence: seen },
          'sequencer: the lock backend handed out a fence below the one the counter store has seen (lost lock state?); re-seeded it above',
        );
        return { lease, state: await store.read(key, lease.fence) };
      }
    } catch (e) {
      await lease.release().catch(() => undefined);
      throw e;
    }
  };

  const allocate = async <T>(
    series: Series,
    req: ReturnType<typeof resolveRequest>,
    write: (allocated: AllocatedNumber[], holder: HolderContext) => Promise<T>,
  ): Promise<T> => {
    const { key } = req;
    const acquire: AcquireOptions = { ttlMs: o.lockTtlMs, waitMs: o.lockWaitMs };
    let lease: LockLease;
    let state: CounterState;
    const id = keeper ? idOf(key) : '';
    const reuse = keeper ? takeKept(id) : undefined;
    let acquiredAt = 0;
    if (reuse !== undefined) {
      // Our lease, unexpired: nobody else could have moved the mark since our own advance returned it.
      ({ lease, state, acquiredAt } = reuse);
    } else if (fused) {
      acquiredAt = performance.now();
      ({ lease, state } = await acquireSpan(key, () => fused.acquireAndRead(key, acquire)));
    } else {
      ({ lease, state } = await acquireAndRead(key, acquire));
    }
    const lost = (): SequencerError =>
      new SequencerError('SEQUENCER_LOCK_LOST', `Lost the lock of series ${key.series} while holding it`, {
        details: { tenant: key.tenant, series: key.series, period: key.period, fence: lease.fence },
      });
    const holder = new Holder(lease.fence);
    const lose = (reason: unknown): void => {
      if (holder.lostReason !== undefined) return;
      holder.lose(reason);
      void withSpan('sequencer', 'lock.lose', spanAttributes(key), () => Promise.reject(lost())).catch(
        () => undefined,
      );
    };
    const timer = setInterval(() => {
      withSpan('sequencer', 'lock.renew', spanAttributes(key), () => lease.renew(o.lockTtlMs)).then(
        (ok) => {
          if (!ok) lose(lost());
        },
        (e: unknown) => lose(e ?? lost()),
      );
    }, renewEvery);
    timer.unref?.();
    let released = false;
    try {
      for (let attempt = 0; ; attempt++) {
        if (holder.lostReason !== undefined) throw lost();
        if (
          series.chronology &&
          req.issueDate !== undefined &&
          state.lastIssueDate !== null &&
          req.issueDate < state.lastIssueDate
        ) {
          throw new SequencerError(
            'SEQUENCER_CHRONOLOGY_VIOLATION',
            `Issue date ${req.issueDate} is earlier than the last committed ${state.lastIssueDate} in series ${key.series}`,
            { details: { tenant: key.tenant, series: key.series, period: key.period } },
          );
        }
        const first = (state.mark ?? key.start - 1) + 1;
        const last = first + req.count - 1;
        checkRange(key, last);
        let result: T;
        try {
          result = await write(buildAllocations(series, req, first), holder);
        } catch (e) {
          if (!isDuplicate(e)) throw e;
          // Another holder (stale, or crashed before advancing) committed this number. If we still hold
          // the lock, re-read the truth from the document store and try the next number.
          if (holder.lostReason !== undefined || !(await lease.renew(o.lockTtlMs))) throw lost();
          if (attempt >= o.maxRecoveries) {
            throw new SequencerError(
              'SEQUENCER_RECOVERY_FAILED',
              `Series ${key.series} still reports duplicates after ${attempt} recoveries`,
              { cause: e, details: { tenant: key.tenant, series: key.series, period: key.period } },
            );
          }
          const before = state.mark;
          state = await store.recover(key, {
            committed: await config.highestCommitted(key),
            fence: lease.fence,
          });
          if (state.mark === before) {
            throw new SequencerError(
              'SEQUENCER_RECOVERY_FAILED',
              `The document store reported a duplicate in series ${key.series} but holds no higher number`,
              { cause: e, details: { tenant: key.tenant, series: key.series, period: key.period } },
            );
          }
          continue;
        }
        // The documents are committed: advance the mark. If that fails (fenced, lock lost, store down) the
        // numbers are still valid; the next holder's duplicate + recovery step accounts for them.
        try {
          const change = { from: state.mark, to: last, issueDate: req.issueDate };
          if (keeper?.advanceAndKeep !== undefined && performance.now() - acquiredAt < o.keepLeaseMaxMs) {
            released = true;
            const sentAt = performance.now();
            const next = await keeper.advanceAndKeep(lease, key, change, o.lockTtlMs);
            await releaseKept(id); // none expected: we held this counter's lock
            const keptLease = lease;
            kept.set(id, {
              lease: keptLease,
              state: next,
              sentAt,
              acquiredAt,
              timer: setTimeout(() => {
                if (kept.get(id)?.lease === keptLease) void releaseKept(id);
              }, o.keepLeaseMs),
            });
          } else if (fused) {
            released = true;
            await fused.advanceAndRelease(lease, key, change);
          } else {
            await store.advance(key, { ...change, fence: lease.fence });
          }
        } catch (e) {
          logger.warn(
            { err: e, tenant: key.tenant, series: key.series, period: key.period, number: last },
            'sequencer: document committed but the mark was not advanced; the next holder recovers it',
          );
        }
        return result;
      }
    } finally {
      clearInterval(timer);
      if (!released) await lease.release().catch(() => undefined);
    }
  };

  const keyOf = (series: Series, options: WithNumberOptions | undefined): CounterKey =>
    resolveRequest(series, options ?? {}).key;

  return Object.freeze({
    withNumber: <T>(
      series: Series,
      options: WithNumberOptions,
      write: (allocated: AllocatedNumber, holder: HolderContext) => Promise<T>,
    ) =>
      typeof write === 'function'
        ? run(series, options, (a, h) => write(a[0] as AllocatedNumber, h))
        : Promise.reject(invalidInput('write callback', undefined, ['write'])),
    withNumbers: run,
    async lastCommitted(series: Series, options?: WithNumberOptions) {
      const key = keyOf(series, options);
      const [state, highest] = await Promise.all([store.peek(key), config.highestCommitted(key)]);
      const m = Math.max(state.mark ?? -1, highest ?? -1);
      return m < 0 ? null : m;
    },
    async void(series: Series, number: number, options: WithNumberOptions & { reason: string }) {
      const key = keyOf(series, options);
      const record = parseVoid(number, options?.reason, clock);
      return withSpan('sequencer', 'void', spanAttributes(key), () => voidNumber(key, record));
    },
    voids: async (series: Series, options?: WithNumberOptions) => store.listVoids(keyOf(series, options)),
    async close() {
      await Promise.all([...kept.keys()].map(releaseKept));
    },
  });

  async function voidNumber(key: CounterKey, record: VoidRecord): Promise<VoidRecord> {
    if (keeper) await releaseKept(idOf(key));
    const highest = await config.highestCommitted(key);
    const state = await store.peek(key);
    if (highest !== null && (state.mark === null || state.mark < highest)) {
      // Bring the mark up to the document store before checking the number was issued.
      const lease = await lock.acquire(key, { ttlMs: o.lockTtlMs, waitMs: o.lockWaitMs });
      try {
        await store.read(key, lease.fence);
        await store.recover(key, { committed: highest, fence: lease.fence });
      } finally {
        await lease.release().catch(() => undefined);
      }
    }
    await store.recordVoid(key, record);
    return record;
  }
}
