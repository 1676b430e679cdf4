import { TenantryError } from '@tenantry/core';
import { SequencerError } from './errors.js';
import type { CounterKey } from './series.js';

/** What a counter store knows about one (tenant, series, period). */
export interface CounterState {
  /** The committed high-water mark: the last number known committed, or `null` before the first. */
  readonly mark: number | null;
  /** The latest issue date committed (`YYYY-MM-DD`), or `null` if none was given. */
  readonly lastIssueDate: string | null;
}

/** A voided number: it stays consumed and is never reissued (S4). */
export interface VoidRecord {
  readonly number: number;
  readonly reason: string;
  readonly voidedAt: Date;
}

/** What a backend declares, so the sequencer checks capabilities instead of guessing. */
export interface CounterStoreCapabilities {
  /** The counter can be advanced inside the same transaction as the document (PostgreSQL, Mongo with a session). */
  readonly sharesTransactionWithDocuments: boolean;
  /** Whether `close()` closes a connection the store opened itself (false: the user's client stays open). */
  readonly ownsConnection: boolean;
}

/**
 * The counter-store port used by the callback form ({@link createLockedSequencer}): a high-water mark
 * per (tenant, series, period) guarded by fencing tokens. Every implementation must pass
 * `counterStoreConformance` from `@tenantry/sequencer/testing`.
 *
 * Fencing rule: `read`, `advance` and `recover` carry the caller's lock fence; the store remembers the
 * highest fence it has seen per counter and refuses (`SEQUENCER_FENCED`) any call with a lower one, so a
 * holder whose lock expired cannot move the mark once a newer holder has touched it.
 */
export interface CounterStore {
  /** Short backend name for messages, e.g. `postgres`. */
  readonly kind: string;
  readonly capabilities: CounterStoreCapabilities;
  /**
   * Read the mark and register `fence` as the newest holder's token.
   * @throws SequencerError `SEQUENCER_FENCED` when a newer fence was already seen (with `details.seenFence`,
   *   the highest fence seen, so a current lock holder can re-seed its lock backend above it)
   */
  read(key: CounterKey, fence: number): Promise<CounterState>;
  /** Read the mark without registering a fence (inspection). */
  peek(key: CounterKey): Promise<CounterState>;
  /**
   * Compare-and-set the mark from `from` to `to`, recording `issueDate` as the latest if later.
   * @throws SequencerError `SEQUENCER_FENCED` when a newer fence was seen; `SEQUENCER_COUNTER_CONFLICT` when the mark is not `from`
   */
  advance(
    key: CounterKey,
    change: { from: number | null; to: number; fence: number; issueDate?: string | undefined },
  ): Promise<void>;
  /**
   * Raise the mark to `committed` (the highest number the document store holds) if it is higher.
   * @throws SequencerError `SEQUENCER_FENCED` when a newer fence was seen
   */
  recover(key: CounterKey, change: { committed: number | null; fence: number }): Promise<CounterState>;
  /**
   * Record that `number` was voided. The mark does not move: the number stays consumed.
   * @throws SequencerError `SEQUENCER_NUMBER_NOT_ISSUED` when `number` is outside start…mark; `SEQUENCER_ALREADY_VOIDED`
   */
  recordVoid(key: CounterKey, record: VoidRecord): Promise<void>;
  /** Voids of one counter, by number. */
  listVoids(key: CounterKey): Promise<VoidRecord[]>;
  /** Release resources the store owns (nothing when it uses the caller's client). */
  close?(): Promise<void>;
}

const where = (key: CounterKey) => ({ tenant: key.tenant, series: key.series, period: key.period });

/**
 * The error a store raises for a stale fencing token. `seen` (the highest fence the store has seen, when
 * known) lets a holder that does hold the lock re-seed its lock backend's fence above it
 * (`LockLease.reseed`), after the lock backend lost its state (a Redis failover or flush).
 * @internal
 */
export function fenced(key: CounterKey, fence: number, seen?: number): SequencerError {
  return new SequencerError(
    'SEQUENCER_FENCED',
    `A newer lock holder already touched series ${key.series}; this holder's fence is stale`,
    { details: { ...where(key), fence, ...(seen === undefined ? {} : { seenFence: seen }) } },
  );
}

/** The highest fence a store reported in a `SEQUENCER_FENCED` error, if any. @internal */
export function seenFenceOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; details?: { seenFence?: unknown } } | null;
  const seen = e?.code === 'SEQUENCER_FENCED' ? e.details?.seenFence : undefined;
  return typeof seen === 'number' && Number.isSafeInteger(seen) ? seen : undefined;
}

/** The error a store raises when the mark is not the expected `from`. @internal */
export function conflict(key: CounterKey): SequencerError {
  return new SequencerError(
    'SEQUENCER_COUNTER_CONFLICT',
    `The counter of series ${key.series} moved under this holder`,
    { details: where(key) },
  );
}

/** Throw `SEQUENCER_NUMBER_NOT_ISSUED` unless `number` is within start…mark. @internal */
export function checkVoid(key: CounterKey, mark: number | null, number: number): void {
  if (mark === null || number < key.start || number > mark) {
    throw new SequencerError(
      'SEQUENCER_NUMBER_NOT_ISSUED',
      `Number ${number} was never committed in series ${key.series}`,
      { details: { ...where(key), number } },
    );
  }
}

/** The error a store raises for a second void of one number. @internal */
export function alreadyVoided(key: CounterKey, number: number): SequencerError {
  return new SequencerError(
    'SEQUENCER_ALREADY_VOIDED',
    `Number ${number} of ${key.series} is already voided`,
    {
      details: { ...where(key), number },
    },
  );
}

const invalid = (what: string, path: string, message: string): TenantryError =>
  new TenantryError('VALIDATION_FAILED', `Invalid ${what}`, {
    details: { what, issues: [{ path: path.split('.'), message }] },
  });

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Check a counter key at a backend's boundary (backends are public: hosts call them directly).
 * @throws TenantryError `VALIDATION_FAILED`
 * @internal
 */
export function assertCounterKey(key: unknown, what = 'counter key'): asserts key is CounterKey {
  let ok = false;
  try {
    const k = key as Partial<CounterKey> | null;
    ok =
      typeof k === 'object' &&
      k !== null &&
      typeof k.tenant === 'string' &&
      k.tenant.length > 0 &&
      k.tenant.length <= 128 &&
      typeof k.series === 'string' &&
      k.series.length > 0 &&
      k.series.length <= 64 &&
      typeof k.period === 'string' &&
      k.period.length <= 16 &&
      isCount(k.start);
  } catch {
    ok = false;
  }
  if (!ok) throw invalid(what, 'key', 'expected { tenant, series, period, start } from the sequencer');
}

/**
 * Check the numbers of a store call: fence, from, to, committed, number (safe non-negative integers),
 * issue date (`YYYY-MM-DD`), void record.
 * @throws TenantryError `VALIDATION_FAILED`
 * @internal
 */
export function assertChange(
  change: unknown,
  fields: ReadonlyArray<
    'fence' | 'from' | 'to' | 'committed' | 'number' | 'issueDate' | 'record' | 'ttlMs' | 'waitMs'
  >,
  what = 'counter store call',
): void {
  let bad: string | undefined;
  try {
    const c = change as Record<string, unknown> | null;
    if (typeof c !== 'object' || c === null) bad = 'change';
    else
      for (const f of fields) {
        const v = c[f];
        if (f === 'from' || f === 'committed') {
          if (v !== null && !isCount(v)) bad = f;
        } else if (f === 'issueDate') {
          if (v !== undefined && !(typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v))) bad = f;
        } else if (f === 'record') {
          if (
            typeof c.reason !== 'string' ||
            c.reason.length === 0 ||
            c.reason.length > 500 ||
            !(c.voidedAt instanceof Date) ||
            Number.isNaN(c.voidedAt.getTime())
          )
            bad = 'record';
        } else if (!isCount(v)) bad = f;
        if (bad) break;
      }
  } catch {
    bad = 'change';
  }
  if (bad) throw invalid(what, bad, 'invalid value');
}
