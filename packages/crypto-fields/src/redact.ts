import { inspect } from 'node:util';

/** Make `util.inspect`/`toJSON` of an object print only its class name (for objects that hold keys). */
export function redactObject(target: object, label: string): void {
  Object.defineProperty(target, inspect.custom, {
    value: () => `${label} { [redacted] }`,
    enumerable: false,
  });
  Object.defineProperty(target, 'toJSON', { value: () => ({ type: label }), enumerable: false });
}
