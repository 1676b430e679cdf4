import type { z } from 'zod';
import { TenantryError, safeText } from './errors.js';

/** Raised when an input crossing the public API fails its zod schema. `details.issues` lists paths and messages (never values). */
export class ValidationError extends TenantryError {
  constructor(what: string, issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>) {
    // Odd arguments are coerced, never thrown on: this class reports other failures.
    const label = typeof what === 'string' ? what : safeText(what);
    const list = (Array.isArray(issues) ? issues.slice(0, MAX_ISSUES) : []).map((i: unknown) => {
      const issue = typeof i === 'object' && i !== null ? (i as { path?: unknown; message?: unknown }) : {};
      return {
        path: formatPath(issue.path),
        message: typeof issue.message === 'string' ? issue.message : safeText(issue.message),
      };
    });
    super('VALIDATION_FAILED', `Invalid ${label}: ${list.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
      details: { what: label, issues: list },
    });
  }
}

const MAX_ISSUES = 100;

function formatPath(path: unknown): string {
  if (!Array.isArray(path) || path.length === 0) return '(root)';
  return path.map((k) => safeText(k, 100)).join('.');
}

/**
 * Parse `input` with `schema`, throwing {@link ValidationError} (`VALIDATION_FAILED`) on failure.
 * Issue messages carry paths and rules, never the offending values, which may be secrets.
 * @throws ValidationError `VALIDATION_FAILED`
 * @example const opts = parseInput(OptionsSchema, raw, 'sequencer options');
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  if (typeof (schema as { safeParse?: unknown } | null | undefined)?.safeParse !== 'function') {
    throw new TenantryError('VALIDATION_FAILED', 'parseInput needs a zod schema', {
      details: { what: safeText(what) },
    });
  }
  let result: z.ZodSafeParseResult<z.output<S>>;
  try {
    result = schema.safeParse(input) as z.ZodSafeParseResult<z.output<S>>;
  } catch (error) {
    // zod reads the input's properties: a getter or Proxy trap that throws must not escape untyped.
    throw new ValidationError(what, [
      {
        path: [],
        message: `reading the input threw (${error instanceof Error ? error.name : typeof error})`,
      },
    ]);
  }
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

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what must be found
const NUL = /\u0000/;

/**
 * Whether every store keeps `s` exactly: no NUL (PostgreSQL refuses it in `text`) and no lone
 * surrogate (drivers send U+FFFD instead, so two different ids would be stored as one).
 * @example z.string().refine(isStorableString, 'may not contain NUL or lone surrogates')
 */
export function isStorableString(s: string): boolean {
  return typeof s === 'string' && !NUL.test(s) && !LONE_SURROGATE.test(s);
}

/**
 * Cheap boundary check that `value` is a plain options object (not null, an array or a primitive),
 * before any property is read from it.
 * @throws ValidationError `VALIDATION_FAILED`
 * @internal
 */
export function requireOptionsObject(value: unknown, what: string): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(what, [{ path: [], message: 'must be an options object' }]);
  }
}

/**
 * Cheap boundary check that a callback is a function, before it is called.
 * @throws ValidationError `VALIDATION_FAILED`
 * @internal
 */
export function requireFunction(
  value: unknown,
  what: string,
): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new ValidationError(what, [{ path: [], message: 'must be a function' }]);
  }
}

/**
 * Cheap structural check of a driver handed in through options (`{ pool }`, `{ db }`): an object that
 * has each named method. Drivers are not parsed with zod (they are class instances).
 * @throws ValidationError `VALIDATION_FAILED`, naming `path` and never the value
 * @internal
 */
export function requireMethods(value: unknown, methods: readonly string[], what: string, path: string): void {
  const ok =
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  if (!ok) {
    throw new ValidationError(what, [
      { path: path === '' ? [] : [path], message: `must have ${methods.map((m) => `${m}()`).join(', ')}` },
    ]);
  }
}

const MASK_KEY_SEPARATORS = /[-_\s]/g;
/**
 * A key name as masking compares it: lower-cased, with `-`, `_` and white space removed, so
 * `new_password`, `API-Key` and `Access_Token` meet `newpassword`, `apikey` and `accesstoken`. APIs
 * spell one field in camel, snake and kebab case, and a secret must not reach an audit trail because
 * of its spelling; every package that masks by key name compares names this way.
 * @example maskKeyName('Access_Token') // 'accesstoken'
 */
export function maskKeyName(name: string): string {
  return String(name).toLowerCase().replace(MASK_KEY_SEPARATORS, '');
}
