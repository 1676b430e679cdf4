/** Where time comes from, injectable so tests are deterministic. */
export interface Clock {
  now(): Date;
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
    this.#ms = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#ms);
  }
  /** Move forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#ms += ms;
  }
  /** Jump to an instant. */
  set(to: Date | string | number): void {
    this.#ms = new Date(to).getTime();
  }
}
