import { TenantryError, type TenantryErrorOptions } from '@tenantry/core';

/**
 * Error codes raised by `@tenantry/sequencer`. Codes are stable API: match on them, never on messages.
 * Input validation failures use core's `VALIDATION_FAILED`.
 */
export const SequencerErrorCodes = {
  /** The counter row or series lock stayed busy longer than the configured wait. Retry the transaction. */
  SEQUENCER_LOCK_TIMEOUT: 'SEQUENCER_LOCK_TIMEOUT',
  /** The series lock expired or was taken over while this holder still worked; nothing was advanced. */
  SEQUENCER_LOCK_LOST: 'SEQUENCER_LOCK_LOST',
  /** A counter write carried a fencing token older than one the store has already seen. */
  SEQUENCER_FENCED: 'SEQUENCER_FENCED',
  /** The counter moved under a compare-and-set (another writer advanced it); nothing was written. */
  SEQUENCER_COUNTER_CONFLICT: 'SEQUENCER_COUNTER_CONFLICT',
  /** The issue date is earlier than the last committed one in the series and period (chronology on). */
  SEQUENCER_CHRONOLOGY_VIOLATION: 'SEQUENCER_CHRONOLOGY_VIOLATION',
  /** The series needs the document's issue date (periodic series, chronology, or a date in the format). */
  SEQUENCER_ISSUE_DATE_REQUIRED: 'SEQUENCER_ISSUE_DATE_REQUIRED',
  /** A void named a number that was never committed in that series and period. */
  SEQUENCER_NUMBER_NOT_ISSUED: 'SEQUENCER_NUMBER_NOT_ISSUED',
  /** The number was already voided. */
  SEQUENCER_ALREADY_VOIDED: 'SEQUENCER_ALREADY_VOIDED',
  /** The next number would exceed `Number.MAX_SAFE_INTEGER`. */
  SEQUENCER_EXHAUSTED: 'SEQUENCER_EXHAUSTED',
  /** The document store kept reporting duplicates after recovery: its unique constraint and the counter disagree. */
  SEQUENCER_RECOVERY_FAILED: 'SEQUENCER_RECOVERY_FAILED',
  /** The counter tables are missing: run the migration. */
  SEQUENCER_NOT_MIGRATED: 'SEQUENCER_NOT_MIGRATED',
  /** The series belongs to another tenant than the one in the current context. */
  TENANT_CONTEXT_CONFLICT: 'TENANT_CONTEXT_CONFLICT',
} as const;

/** One of {@link SequencerErrorCodes}. */
export type SequencerErrorCode = (typeof SequencerErrorCodes)[keyof typeof SequencerErrorCodes];

/**
 * Error raised by the sequencer, with a stable {@link SequencerErrorCodes} code and safe details
 * (tenant, series, period, numbers; never document contents).
 * @example if (isTenantryError(e, 'SEQUENCER_LOCK_TIMEOUT')) return retryLater();
 */
export class SequencerError extends TenantryError {
  declare readonly code: SequencerErrorCode;
  constructor(code: SequencerErrorCode, message: string, options: TenantryErrorOptions = {}) {
    super(code, message, options);
  }
}
