import { assertCounterKey, type CounterState } from './counter-store.js';
import { SequencerError } from './errors.js';
import type { CounterKey } from './series.js';

/** A held series lock. */
export interface LockLease {
  /** Fencing token: strictly greater than every earlier lease's token on the same series and period. */
  readonly fence: number;
  /** Extend the lease by `ttlMs`; `false` when it was already lost (expired and taken, or connection gone). */
  renew(ttlMs: number): Promise<boolean>;
  /** Release the lease if still held by us; never releases a newer holder's lease. */
  release(): Promise<void>;
  /**
   * Optional: raise the fencing token above `above` while this lease still holds the lock, in one step,
   * and return the lease with the new token (`null` when the lock is no longer held). Used when the
   * counter store has seen a higher fence than the lock backend hands out, i.e. the lock backend lost its
   * state (a Redis failover or flush lost the fence counter): the store stays the truth. Only a current
   * holder can re-seed, so a stale holder stays fenced off.
   */
  reseed?(above: number): Promise<LockLease | null>;
}

/** Options for {@link LockBackend.acquire}. */
export interface AcquireOptions {
  /** Lease time-to-live in ms (backends without TTLs, like PostgreSQL advisory locks, ignore it). */
  ttlMs: number;
  /** How long to wait for a busy lock before `SEQUENCER_LOCK_TIMEOUT`. */
  waitMs: number;
}

/**
 * The lock-backend port of the callback form. Every implementation must pass `lockBackendConformance`
 * from `@tenantry/sequencer/testing`.
 */
export interface LockBackend {
  /** Short backend name for messages, e.g. `redis`. */
  readonly kind: string;
  /**
   * Take the lock of one counter, waiting up to `waitMs`.
   * @throws SequencerError `SEQUENCER_LOCK_TIMEOUT`
   */
  acquire(key: CounterKey, options: AcquireOptions): Promise<LockLease>;
}

/**
 * Optional fast path for a backend that is both the lock and the counter store on one server (Redis):
 * lock + read in one round trip, and advance + release in one round trip, checking the lease atomically.
 */
export interface FusedLockedCounter {
  acquireAndRead(
    key: CounterKey,
    options: AcquireOptions,
  ): Promise<{ lease: LockLease; state: CounterState }>;
  /**
   * Advance the mark only if `lease` still holds the lock, then release it.
   * @throws SequencerError `SEQUENCER_LOCK_LOST`, `SEQUENCER_FENCED` or `SEQUENCER_COUNTER_CONFLICT`
   */
  advanceAndRelease(
    lease: LockLease,
    key: CounterKey,
    change: { from: number | null; to: number; issueDate?: string | undefined },
  ): Promise<void>;
  /**
   * Optional: advance the mark only if `lease` still holds the lock, and keep the lock with its TTL
   * reset to `ttlMs` (for a back-to-back allocation of the same counter). Returns the counter's state
   * after the advance, as stored. On failure the lease is released and the same errors as
   * {@link FusedLockedCounter.advanceAndRelease} are thrown.
   */
  advanceAndKeep?(
    lease: LockLease,
    key: CounterKey,
    change: { from: number | null; to: number; issueDate?: string | undefined },
    ttlMs: number,
  ): Promise<CounterState>;
}

/** A stable string naming one counter, for lock names (`tenant:series:period`). */
export function counterResource(key: CounterKey): string {
  assertCounterKey(key);
  return `${key.tenant}:${key.series}:${key.period}`;
}

/** The typed timeout error every lock backend raises. @internal */
export function lockTimeout(key: CounterKey, waitMs: number, cause?: unknown): SequencerError {
  return new SequencerError(
    'SEQUENCER_LOCK_TIMEOUT',
    `Series ${key.series} stayed locked longer than ${waitMs} ms; retry`,
    { cause, details: { tenant: key.tenant, series: key.series, period: key.period, waitMs } },
  );
}

/** Wait `ms` milliseconds (lock retry back-off). @internal */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
