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

/** Whether a report shows exactly start…last with no gap and no duplicate. */
export function isGapless(report: GapReport): boolean {
  return report.gaps.length === 0 && report.duplicates.length === 0 && !report.belowStart;
}

/**
 * Find gaps and duplicates in a list of committed numbers (any document store), relative to `start`.
 * @example findGapsAndDuplicates([1, 2, 4, 4], 1) // gaps [{from:3,to:3}], duplicates [{number:4,count:2}]
 */
export function findGapsAndDuplicates(numbers: Iterable<number>, start = 1): GapReport {
  const counts = new Map<number, number>();
  let count = 0;
  for (const n of numbers) {
    counts.set(n, (counts.get(n) ?? 0) + 1);
    count++;
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
