import { invalidInput } from './input.js';

/** What a gap/duplicate scan found in one series and period. */
export interface GapReport {
  /** Documents scanned. */
  count: number;
  /** Distinct numbers among them. */
  distinct: number;
  first: number | null;
  last: number | null;
  /** Missing ranges `from…to` (inclusive) between the start value and the last number. */
  gaps: Array<{ from: number; to: number }>;
  /** Numbers held by more than one document. */
  duplicates: Array<{ number: number; count: number }>;
  /** Whether some number is below the start value. */
  belowStart: boolean;
}

/**
 * Whether a report shows exactly start…last with no gap and no duplicate.
 * @throws TenantryError `VALIDATION_FAILED` when `report` is not a {@link GapReport}
 */
export function isGapless(report: GapReport): boolean {
  try {
    if (
      Array.isArray(report.gaps) &&
      Array.isArray(report.duplicates) &&
      typeof report.belowStart === 'boolean'
    ) {
      return report.gaps.length === 0 && report.duplicates.length === 0 && !report.belowStart;
    }
  } catch {
    // fall through
  }
  throw invalidInput('gap report');
}

/**
 * Find gaps and duplicates in a list of committed numbers (any document store), relative to `start`.
 * @throws TenantryError `VALIDATION_FAILED` unless `numbers` is an iterable of non-negative safe integers
 * @example findGapsAndDuplicates([1, 2, 4, 4], 1) // gaps [{from:3,to:3}], duplicates [{number:4,count:2}]
 */
export function findGapsAndDuplicates(numbers: Iterable<number>, start = 1): GapReport {
  if (!Number.isSafeInteger(start) || start < 0) throw invalidInput('start value', undefined, ['start']);
  const counts = new Map<number, number>();
  let count = 0;
  try {
    for (const n of numbers) {
      if (!Number.isSafeInteger(n) || n < 0) throw new TypeError('not a number');
      counts.set(n, (counts.get(n) ?? 0) + 1);
      count++;
    }
  } catch (e) {
    throw invalidInput('numbers (an iterable of non-negative safe integers)', e, ['numbers']);
  }
  const sorted = [...counts.keys()].sort((a, b) => a - b);
  const gaps: GapReport['gaps'] = [];
  let prev = start - 1;
  for (const n of sorted) {
    if (n > prev + 1) gaps.push({ from: prev + 1, to: n - 1 });
    prev = Math.max(prev, n);
  }
  return {
    count,
    distinct: sorted.length,
    first: sorted[0] ?? null,
    last: sorted.at(-1) ?? null,
    gaps,
    duplicates: sorted
      .filter((n) => (counts.get(n) ?? 0) > 1)
      .map((n) => ({ number: n, count: counts.get(n) ?? 0 })),
    belowStart: sorted.length > 0 && (sorted[0] as number) < start,
  };
}
