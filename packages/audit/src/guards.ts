// Cheap structural checks at the public boundary (CONTRIBUTING §5): a typeof test first, so hot paths
// stay cheap, and a `VALIDATION_FAILED` naming the path (never the value) when it fails.
import { type Clock, ValidationError } from '@tenantry/core';

/** Throw core's `VALIDATION_FAILED` for `what`, naming the path (dot-separated, '' for the root) and the rule. */
export function invalid(what: string, path: string, message: string): never {
  throw new ValidationError(what, [{ path: path === '' ? [] : path.split('.'), message }]);
}

// Plain booleans, not type guards: narrowing a declared parameter type would lose its fields.
export const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;

/** A non-null, non-array object. */
export const isRecord = (v: unknown): boolean => isObject(v) && !Array.isArray(v);

/** An options object: `undefined` (→ `{}`) or a non-array object. */
export function optionsOf<T extends object>(v: T | undefined, what: string): Partial<T> {
  if (v === undefined) return {};
  if (!isRecord(v)) invalid(what, '', 'must be an object');
  return v as Partial<T>;
}

/** An optional `clock` option: absent, or an object with `now()`. */
export function checkClock(clock: unknown, what: string): Clock | undefined {
  if (clock !== undefined && typeof (clock as Partial<Clock> | null)?.now !== 'function') {
    invalid(what, 'clock', 'must be a Clock (an object with now())');
  }
  return clock as Clock | undefined;
}

/** An iterable (sync or async) that is not a string: a string would be walked character by character. */
export function checkIterable(v: unknown, what: string, path = ''): void {
  const o = v as Record<symbol, unknown>;
  if (
    !isObject(v) ||
    (typeof o[Symbol.iterator] !== 'function' && typeof o[Symbol.asyncIterator] !== 'function')
  ) {
    invalid(what, path, 'must be an array or an iterable');
  }
}
