import { defineErrorCodes, TenantryError, type TenantryErrorOptions } from '@tenantry/core';

/**
 * Error codes raised by `@tenantry/sequencer`, with the HTTP status adapters answer with and whether
 * retrying the same call may succeed (`TenantryError#status`, `#retryable`). Codes are stable API:
 * match on them, never on messages. Input validation failures use core's `VALIDATION_FAILED`; tenant
 * isolation failures use core's `TENANT_CONTEXT_MISSING` / `TENANT_CONTEXT_CONFLICT`.
 */
export const SequencerErrorCodes = defineErrorCodes({
  /** The counter row or series lock stayed busy longer than the configured wait. Retry the transaction. */
  SEQUENCER_LOCK_TIMEOUT: { status: 503, retryable: true },
  /** The series lock expired or was taken over while this holder still worked; nothing was advanced. Retry. */
  SEQUENCER_LOCK_LOST: { status: 503, retryable: true },
  /** A counter write carried a fencing token older than one the store has already seen. Retry with a new lock. */
  SEQUENCER_FENCED: { status: 409, retryable: true },
  /** The counter moved under a compare-and-set (another writer advanced it); nothing was written. Retry. */
  SEQUENCER_COUNTER_CONFLICT: { status: 409, retryable: true },
  /**
   * PostgreSQL aborted the caller's transaction with a serialization failure (40001) or a deadlock
   * (40P01). Nothing was consumed: roll back and run the whole transaction again.
   */
  SEQUENCER_SERIALIZATION_FAILURE: { status: 503, retryable: true },
  /** The issue date is earlier than the last committed one in the series and period (chronology on). */
  SEQUENCER_CHRONOLOGY_VIOLATION: { status: 422 },
  /** The series needs the document's issue date (periodic series, chronology, or a date in the format). */
  SEQUENCER_ISSUE_DATE_REQUIRED: { status: 422 },
  /** A void named a number that was never committed in that series and period. */
  SEQUENCER_NUMBER_NOT_ISSUED: { status: 422 },
  /** The number was already voided. */
  SEQUENCER_ALREADY_VOIDED: { status: 409 },
  /** The next number would exceed `Number.MAX_SAFE_INTEGER`. */
  SEQUENCER_EXHAUSTED: { status: 409 },
  /** The document store kept reporting duplicates after recovery: its unique constraint and the counter disagree. */
  SEQUENCER_RECOVERY_FAILED: { status: 500 },
  /** The counter tables are missing: run `sequencerMigrations` with core's `runMigrations`. */
  SEQUENCER_NOT_MIGRATED: { status: 500 },
  /**
   * An in-transaction call (`next`, `nextBatch`, `void` of `createPostgresSequencer`) got a Pool or a
   * client outside `BEGIN`: the counter update would autocommit and a failed document write would leave
   * a gap. Nothing was written. Pass the client of your open transaction.
   */
  SEQUENCER_NOT_IN_TRANSACTION: { status: 500 },
  /** The counter store could not be reached (connection refused, reset or closed). Retry later. */
  SEQUENCER_STORE_UNAVAILABLE: { status: 503, retryable: true },
  /**
   * `withNumber` on PostgreSQL: the transaction that ran this write (alone, or combined with other
   * requests of the same series) did not commit, so the document was not written and no number was
   * consumed. Run the request again.
   */
  SEQUENCER_COMMIT_FAILED: { status: 503, retryable: true },
  /**
   * `withNumber` on PostgreSQL: the connection broke during `COMMIT` and the server could not tell
   * afterwards whether the transaction committed (`txid_status` unknown). `insertWithNumber`: the
   * connection broke while its one statement ran, which may have committed. The document may or may not
   * be there: look it up before writing it again. Rare for `withNumber`: the outcome is normally checked
   * on a new connection.
   */
  SEQUENCER_COMMIT_UNKNOWN: { status: 500 },
  /**
   * `insertWithNumber` on PostgreSQL: the document's INSERT failed (a constraint, a missing column, a
   * value the column refuses), so the statement took no number. `details` carry the `sqlstate`, and the
   * `constraint`, `table` and `column` when PostgreSQL names them; the driver error is the `cause`.
   */
  SEQUENCER_INSERT_FAILED: { status: 422 },
  /** The counter store failed in an unexpected way; the driver error is kept as `cause`. */
  SEQUENCER_STORE_FAILED: { status: 500 },
  /**
   * `withNumber` on PostgreSQL: a statement was issued on the write's `tx` after its request was settled
   * (the transaction committed or rolled back and the connection went back to the pool). The statement
   * was not sent: do every write of the document inside the callback, before its promise settles.
   */
  SEQUENCER_TX_ENDED: { status: 500 },
});

/** One of {@link SequencerErrorCodes}. */
export type SequencerErrorCode = keyof typeof SequencerErrorCodes;

function safeOptions(options: unknown): TenantryErrorOptions {
  try {
    const o = options as TenantryErrorOptions | null | undefined;
    if (typeof o !== 'object' || o === null) return {};
    const details = typeof o.details === 'object' && o.details !== null ? o.details : undefined;
    return { ...(o.cause === undefined ? {} : { cause: o.cause }), ...(details ? { details } : {}) };
  } catch {
    return {};
  }
}

/**
 * Error raised by the sequencer, with a stable {@link SequencerErrorCodes} code and safe details
 * (tenant, series, period, numbers; never document contents).
 * @example if (isTenantryError(e, 'SEQUENCER_LOCK_TIMEOUT')) return retryLater();
 */
export class SequencerError extends TenantryError {
  declare readonly code: SequencerErrorCode;
  constructor(code: SequencerErrorCode, message: string, options: TenantryErrorOptions = {}) {
    super(
      typeof code === 'string' ? code : 'SEQUENCER_STORE_FAILED',
      typeof message === 'string' ? message : 'Sequencer error',
      safeOptions(options),
    );
  }
}
