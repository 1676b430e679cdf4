import { SequencerError } from '../errors.js';
import type { CounterKey } from '../series.js';

/** @internal */
export function fenced(key: CounterKey, fence: number): SequencerError {
  return new SequencerError(
    'SEQUENCER_FENCED',
    `A newer lock holder already touched series ${key.series}; this holder's fence is stale`,
    { details: { tenant: key.tenant, series: key.series, period: key.period, fence } },
  );
}

/** @internal */
export function conflict(key: CounterKey): SequencerError {
  return new SequencerError(
    'SEQUENCER_COUNTER_CONFLICT',
    `The counter of series ${key.series} moved under this holder`,
    { details: { tenant: key.tenant, series: key.series, period: key.period } },
  );
}

/** @internal */
export function checkVoid(key: CounterKey, mark: number | null, number: number): void {
  if (mark === null || number < key.start || number > mark) {
    throw new SequencerError(
      'SEQUENCER_NUMBER_NOT_ISSUED',
      `Number ${number} was never committed in series ${key.series}`,
      { details: { tenant: key.tenant, series: key.series, period: key.period, number } },
    );
  }
}

/** @internal */
export function alreadyVoided(key: CounterKey, number: number): SequencerError {
  return new SequencerError(
    'SEQUENCER_ALREADY_VOIDED',
    `Number ${number} of ${key.series} is already voided`,
    {
      details: { tenant: key.tenant, series: key.series, period: key.period, number },
    },
  );
}

/** @internal */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The typed timeout error every lock backend raises. @internal */
export function lockTimeout(key: CounterKey, waitMs: number, cause?: unknown): SequencerError {
  return new SequencerError(
    'SEQUENCER_LOCK_TIMEOUT',
    `Series ${key.series} stayed locked longer than ${waitMs} ms; retry`,
    { cause, details: { tenant: key.tenant, series: key.series, period: key.period, waitMs } },
  );
}
