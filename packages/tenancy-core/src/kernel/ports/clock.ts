import { ValidationError } from '../validation.js';

/** Where time comes from, injectable so tests are deterministic. */
export interface Clock {
  now(): Date;
}

function toMs(value: unknown, what: string): number {
  const ms =
    value instanceof Date || (typeof value === 'string' && value.length <= 64) || typeof value === 'number'
      ? new Date(value).getTime()
      : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError(what, [
      { path: [], message: 'must be a valid Date, ISO string or epoch milliseconds' },
    ]);
  }
  return ms;
}

/** The real wall clock. */
export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/**
 * A clock that moves only when told to, for tests.
 * @example const clock = new ManualClock('2026-01-01T00:00:00Z'); clock.advance(60_000);
 */
export class ManualClock implements Clock {
  #ms: number;
  constructor(start: Date | string | number = 0) {
    this.#ms = toMs(start, 'ManualClock start');
  }
  now(): Date {
    return new Date(this.#ms);
  }
  /** Move forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw new ValidationError('ManualClock advance', [
        { path: [], message: 'must be a finite number of milliseconds' },
      ]);
    }
    this.#ms += ms;
  }
  /** Jump to an instant. */
  set(to: Date | string | number): void {
    this.#ms = toMs(to, 'ManualClock instant');
  }
}
