/**
 * Benchmark helpers shared by every package's `bench/` scripts. A benchmark compares our code with a
 * baseline doing the same job by hand, measured in the same run, alternating rounds so drift in the
 * machine affects both alike. Ratio = ours ÷ baseline in throughput terms (higher is better).
 */

import { readFileSync } from 'node:fs';

/**
 * CPU time a process has used so far (user + system), in milliseconds, from `/proc/<pid>/stat`
 * (clock ticks of 10 ms); `undefined` where that is not readable (not Linux, another host's process).
 * A figure a loaded machine moves far less than a rate: what the process spent, not what it got.
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** One row of a benchmark table. */
export interface BenchRow {
  workload: string;
  ours: number;
  baseline: number;
  unit: string;
  ratio: number;
}

/** Options for {@link throughput}. */
export interface ThroughputOptions {
  /** How long to measure. @default 1000 */
  durationMs?: number;
  /** Calls in flight at once (for async work). @default 1 */
  concurrency?: number;
  /** Calls between clock reads, for very cheap synchronous work. @default 1 */
  batch?: number;
  /** Units of work one call does (e.g. rows inserted), so the rate is in units. @default 1 */
  unitsPerCall?: number;
}

/** Units per second that `fn` sustains, after a short warm-up. */
export async function throughput(fn: () => unknown, options: ThroughputOptions = {}): Promise<number> {
  const durationMs = options.durationMs ?? 1000;
  const concurrency = options.concurrency ?? 1;
  const batch = options.batch ?? 1;
  const units = options.unitsPerCall ?? 1;
  const runFor = async (ms: number): Promise<{ calls: number; elapsed: number }> => {
    let calls = 0;
    const start = performance.now();
    const deadline = start + ms;
    const loop = async (): Promise<void> => {
      while (performance.now() < deadline) {
        for (let i = 0; i < batch; i++) {
          const r = fn();
          if (r instanceof Promise) await r;
        }
        calls += batch;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    return { calls, elapsed: performance.now() - start };
  };
  await runFor(Math.min(300, durationMs / 3));
  const { calls, elapsed } = await runFor(durationMs);
  return (calls * units * 1000) / elapsed;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Options for {@link compare}. */
export interface CompareOptions extends ThroughputOptions {
  workload: string;
  /** Unit of the rates, e.g. `ops/s`, `allocations/s`. */
  unit: string;
  ours: () => unknown;
  baseline: () => unknown;
  /** Alternating rounds per side; the median is reported. @default 3 */
  rounds?: number;
}

/** Measure ours and the baseline in alternating rounds and return the row with median rates. */
export async function compare(options: CompareOptions): Promise<BenchRow> {
  const rounds = options.rounds ?? 3;
  const ours: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first so neither always benefits from a warm cache.
    if (r % 2 === 0) {
      base.push(await throughput(options.baseline, options));
      ours.push(await throughput(options.ours, options));
    } else {
      ours.push(await throughput(options.ours, options));
      base.push(await throughput(options.baseline, options));
    }
  }
  const o = median(ours);
  const b = median(base);
  return { workload: options.workload, ours: o, baseline: b, unit: options.unit, ratio: o / b };
}

/**
 * A row from rates measured in the same rounds (`ours[i]` and `baseline[i]` taken one after the other in
 * round `i`): the rates are the medians, and the ratio is the median of the per-round ratios, which a
 * machine drifting between rounds moves less than the ratio of the medians. The workload names the
 * spread of the per-round ratios, so a reader sees how far one round can be from another.
 */
export function pairedRow(
  workload: string,
  ours: readonly number[],
  baseline: readonly number[],
  unit: string,
): BenchRow {
  const ratios = ours.map((o, i) => o / (baseline[i] as number));
  const spread = `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
  return {
    workload: `${workload} [rounds ${spread}]`,
    ours: median(ours),
    baseline: median(baseline),
    unit,
    ratio: median(ratios),
  };
}

const fmt = (n: number): string =>
  n >= 1000 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(3);

/** Whether the script was started with `--json`. */
export const jsonRequested = (): boolean => process.argv.includes('--json');

/**
 * Print a benchmark table (workload, ours, baseline, unit, ratio). With `--json` on the command line,
 * the last line printed is the rows as a JSON array.
 */
export function printBench(title: string, rows: BenchRow[]): void {
  const header = ['workload', 'ours', 'baseline', 'unit', 'ratio'];
  const body = rows.map((r) => [r.workload, fmt(r.ours), fmt(r.baseline), r.unit, r.ratio.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || i === 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of body) console.log(line(row));
  if (jsonRequested()) {
    console.log(
      JSON.stringify(
        rows.map((r) => ({
          workload: r.workload,
          ours: r.ours,
          baseline: r.baseline,
          unit: r.unit,
          ratio: r.ratio,
        })),
      ),
    );
  }
}
