import type { z } from 'zod';
import { TenantryError } from './errors.js';

/** Raised when an input crossing the public API fails its zod schema. `details.issues` lists paths and messages (never values). */
export class ValidationError extends TenantryError {
  constructor(what: string, issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>) {
    super(
      'VALIDATION_FAILED',
      `Invalid ${what}: ${issues.map((i) => `${formatPath(i.path)} ${i.message}`).join('; ')}`,
      {
        details: { what, issues: issues.map((i) => ({ path: formatPath(i.path), message: i.message })) },
      },
    );
  }
}

function formatPath(path: PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/**
 * Parse `input` with `schema`, throwing {@link ValidationError} (`VALIDATION_FAILED`) on failure.
 * Issue messages carry paths and rules, never the offending values, which may be secrets.
 * @throws ValidationError `VALIDATION_FAILED`
 * @example const opts = parseInput(OptionsSchema, raw, 'sequencer options');
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ValidationError(
      what,
      result.error.issues.map((i) => ({ path: i.path, message: i.message })),
    );
  }
  return result.data;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether `s` is well-formed UTF-16 (no lone surrogate). Drivers encode a lone surrogate as U+FFFD, so
 * two different ill-formed strings could reach a server as the same key, name or literal.
 * @internal
 */
export function isWellFormedUnicode(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
