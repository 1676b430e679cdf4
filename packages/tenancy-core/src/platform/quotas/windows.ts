import { z } from 'zod';
import { ValidationError, parseInput } from '../../kernel/validation.js';

const DAY = 86_400_000;

/**
 * A quota window. Named windows are fixed and aligned to UTC on the injected clock: `minute`, `hour`
 * and `day` start on the UTC minute/hour/midnight, `week` on Monday 00:00 UTC, `month` on the first of
 * the month 00:00 UTC. `{ ms }` is a fixed window of that length aligned to the Unix epoch.
 */
export const QuotaWindowSchema = z.union([
  z.enum(['minute', 'hour', 'day', 'week', 'month']),
  z
    .object({
      ms: z
        .number()
        .int()
        .min(1000)
        .max(366 * DAY),
    })
    .strict(),
]);
export type QuotaWindow = z.output<typeof QuotaWindowSchema>;

/** The bounds of the window containing an instant, in ms since the epoch (`end` exclusive). */
export interface WindowBounds {
  readonly start: number;
  readonly end: number;
}

const fixed = (now: number, ms: number, offset = 0): WindowBounds => {
  const start = Math.floor((now - offset) / ms) * ms + offset;
  return { start, end: start + ms };
};

/**
 * The window containing `now` (ms since the epoch).
 * @example windowBounds('day', Date.parse('2026-03-05T13:00:00Z')) // { start: 2026-03-05T00:00Z, end: 2026-03-06T00:00Z }
 */
export function windowBounds(window: QuotaWindow, now: number): WindowBounds {
  if (typeof window === 'object' && window !== null && Number.isSafeInteger(window.ms) && window.ms > 0) {
    return fixed(now, window.ms);
  }
  switch (window) {
    case 'minute':
      return fixed(now, 60_000);
    case 'hour':
      return fixed(now, 3_600_000);
    case 'day':
      return fixed(now, DAY);
    case 'week':
      // 1970-01-01 was a Thursday; Monday 1970-01-05 is 4 days later.
      return fixed(now, 7 * DAY, 4 * DAY);
    case 'month': {
      const d = new Date(now);
      const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      return { start, end };
    }
  }
  // Not a window: report it as the schema would (VALIDATION_FAILED), never an undefined result.
  parseInput(QuotaWindowSchema, window, 'quota window');
  throw new ValidationError('quota window', [{ path: [], message: 'not a quota window' }]);
}
