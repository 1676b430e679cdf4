import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Raw key bytes behind a private field. `toJSON`, `toString` and `util.inspect` print `[redacted]`,
 * so a key that reaches a logger, an error or `JSON.stringify` by accident leaks nothing.
 * @example const k = SecretKey.from(randomBytes(32)); JSON.stringify({ k }) // '{"k":"[redacted]"}'
 */
export class SecretKey {
  readonly #bytes: Uint8Array;
  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  /** Wrap bytes (copied) as a secret key. */
  static from(bytes: Uint8Array): SecretKey {
    return new SecretKey(Uint8Array.from(bytes));
  }
  /** Key length in bytes. */
  get length(): number {
    return this.#bytes.length;
  }
  /** The raw bytes. Internal use: never log or serialise them. */
  expose(): Uint8Array {
    return this.#bytes;
  }
  /** Overwrite the bytes with zeros (best effort: JS cannot guarantee no copies exist). */
  destroy(): void {
    this.#bytes.fill(0);
  }
  toJSON(): string {
    return REDACTED;
  }
  toString(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return `SecretKey(${REDACTED})`;
  }
}

/** Make `util.inspect`/`toJSON` of an object print only its class name (for objects that hold keys). */
export function redactObject(target: object, label: string): void {
  Object.defineProperty(target, inspect.custom, {
    value: () => `${label} { [redacted] }`,
    enumerable: false,
  });
  Object.defineProperty(target, 'toJSON', { value: () => ({ type: label }), enumerable: false });
}
