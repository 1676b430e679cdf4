import { ValidationError } from '@tenantry/core';

/**
 * Throw `VALIDATION_FAILED` for one bad argument of a public function, naming its path and rule,
 * never its value.
 * @internal
 */
export function invalid(what: string, path: PropertyKey[], message: string): never {
  throw new ValidationError(what, [{ path, message }]);
}

/** Whether `value` is a non-null, non-array object. @internal */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Set `key` on `target` as an own data property, also for `__proto__` (an assignment would replace the
 * prototype instead).
 * @internal
 */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
