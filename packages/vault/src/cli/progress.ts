import { parseInput } from '@tenantry/core';
import { z } from 'zod';
import type { VaultProgress } from '../snapshot/progress.js';

/** Where the CLI writes: `process.stdout`/`process.stderr`, or a capture in tests. */
export interface CliStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** `1536` → `1.5 KB` (powers of 1024). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(value >= 100 ? 0 : 1)} ${UNITS[unit]}`;
}

/** `1234567` → `1,234,567`. */
export const formatCount = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Seconds with one decimal, e.g. `2.4 s`. */
export const formatSeconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const ProgressViewArgsSchema = z.object({
  out: z.custom<CliStream>(
    (v) => typeof v === 'object' && v !== null && typeof (v as { write?: unknown }).write === 'function',
    'must have a write function',
  ),
  options: z.object({
    label: z.string().max(1000),
    totalBytes: z.number().nonnegative().optional(),
    plainIntervalMs: z.number().int().nonnegative().optional(),
    now: z.custom<() => number>((v) => typeof v === 'function', 'must be a function').optional(),
  }),
});

/** Options of {@link ProgressView}. */
export interface ProgressViewOptions {
  /** What runs, e.g. `snapshot acme`. */
  label: string;
  /** Total bytes expected (a known snapshot size), for the bar's fill; without it the bar is not drawn. */
  totalBytes?: number;
  /** Minimum time between plain lines (not a terminal). @default 2000 */
  plainIntervalMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Shows a long run's progress (V6): records, bytes and rate. On a terminal one line redrawn in place
 * with a bar (when the total is known), at most every 100 ms; otherwise plain lines, at most every
 * `plainIntervalMs` and whenever a new module or step starts, so logs stay readable.
 */
export class ProgressView {
  readonly #out: CliStream;
  readonly #o: Required<Omit<ProgressViewOptions, 'totalBytes'>> & { totalBytes?: number };
  readonly #started: number;
  #last = 0;
  #lastPhase = '';
  #drawn = false;
  #latest: VaultProgress | undefined;
  #written: VaultProgress | undefined;

  /** @throws ValidationError `VALIDATION_FAILED` when `out` cannot be written to or the options are malformed */
  constructor(out: CliStream, options: ProgressViewOptions) {
    parseInput(ProgressViewArgsSchema, { out, options }, 'progress view');
    this.#out = out;
    this.#o = { plainIntervalMs: 2000, now: Date.now, ...options };
    this.#started = this.#o.now();
  }

  /** Milliseconds since the view was created. */
  elapsed(): number {
    return this.#o.now() - this.#started;
  }

  /** The latest report received. */
  get latest(): VaultProgress | undefined {
    return this.#latest;
  }

  /** Takes one progress report (a vault `onProgress` listener). */
  readonly update = (p: VaultProgress): void => {
    this.#latest = p;
    const now = this.#o.now();
    const phase = `${p.step ?? ''}/${p.module ?? ''}`;
    if (this.#out.isTTY) {
      if (now - this.#last < 100 && phase === this.#lastPhase) return;
      this.#last = now;
      this.#lastPhase = phase;
      this.#out.write(`\r\x1b[2K${this.#line(p, true)}`);
      this.#drawn = true;
      return;
    }
    if (phase === this.#lastPhase && now - this.#last < this.#o.plainIntervalMs) return;
    this.#last = now;
    this.#lastPhase = phase;
    this.#written = p;
    this.#out.write(`${this.#line(p, false)}\n`);
  };

  /**
   * Ends the display (clears the terminal line). With `done` (the run succeeded), plain output gets
   * the last report too when the interval held it back, so the final figures are shown.
   */
  finish(done = false): void {
    if (this.#drawn) this.#out.write('\r\x1b[2K');
    this.#drawn = false;
    const last = this.#latest;
    if (done && !this.#out.isTTY && last !== undefined && last !== this.#written) {
      this.#written = last;
      this.#out.write(`${this.#line(last, false)}\n`);
    }
  }

  #line(p: VaultProgress, tty: boolean): string {
    const seconds = Math.max(this.elapsed(), 1) / 1000;
    const where = [p.step, p.module].filter((s) => s !== undefined && s !== '').join(' ');
    // Nothing written or read yet while records are (a snapshot seals its object in chunks, behind
    // the modules): no bytes figures rather than a misleading `0 B`.
    const bytes =
      p.bytes > 0 || p.records === 0 ? `${formatBytes(p.bytes)}, ${formatBytes(p.bytes / seconds)}/s, ` : '';
    const figures = `${formatCount(p.records)} records, ${bytes}${formatCount(p.records / seconds)} records/s`;
    const head = `${this.#o.label}${where ? ` [${where}]` : ''}`;
    if (!tty || this.#o.totalBytes === undefined || this.#o.totalBytes <= 0) return `${head}: ${figures}`;
    const width = Math.max(10, Math.min(30, (this.#out.columns ?? 80) - 80));
    const ratio = Math.min(1, p.bytes / this.#o.totalBytes);
    const filled = Math.round(ratio * width);
    return `${head} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${figures}`;
  }
}
