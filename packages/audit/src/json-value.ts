import { AuditError } from './errors.js';

/** A JSON value that round-trips exactly through PostgreSQL `text`/`jsonb`, MongoDB and JSON lines. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

// Characters no store keeps exactly: NUL (PostgreSQL rejects it) and lone UTF-16 surrogates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what must be rejected
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Throw `AUDIT_VALUE_UNSUPPORTED` if `s` holds a character that some store would alter or reject. */
export function assertStorableString(s: string, path: string): string {
  if (UNSTORABLE.test(s)) {
    throw new AuditError(
      'AUDIT_VALUE_UNSUPPORTED',
      `Audit value at ${path} holds a NUL character or a lone surrogate, which stores cannot keep exactly`,
      { details: { path } },
    );
  }
  return s;
}

/** How {@link toStorableJson} walks a value. */
export interface StorableJsonOptions {
  /** Deeper nesting is refused with `AUDIT_EVENT_TOO_LARGE`. */
  readonly maxDepth: number;
  /** Whether the value under `key` of `holder` (at `path`, lower-cased keys) is replaced by `replacement`. */
  readonly isMasked?: (path: readonly string[], key: string, holder: object) => boolean;
  readonly replacement?: string;
}

// Built-ins whose own enumerable properties do not describe their value: walking them as objects
// would silently store `{}` (a Map, an Error) or an index object (a Buffer). They are refused.
const OPAQUE: ReadonlyArray<abstract new (...args: never[]) => unknown> = [
  Map,
  Set,
  WeakMap,
  WeakSet,
  RegExp,
  Error,
  Promise,
  ArrayBuffer,
  Number,
  String,
  Boolean,
];

const unsupported = (path: readonly string[], type: string): AuditError =>
  new AuditError(
    'AUDIT_VALUE_UNSUPPORTED',
    `Audit value at ${path.join('.') || '$'} (${type}) cannot be stored exactly`,
    {
      details: { path: path.join('.') || '$', type },
    },
  );

/**
 * Convert `value` to plain JSON that every store keeps exactly, or refuse it: nothing is dropped or
 * changed silently. Kept: strings (no NUL, no lone surrogate), finite numbers (`-0` is written `0`,
 * as JSON and RFC 8785 do), booleans, `null`, dense arrays, and objects by their own enumerable
 * string keys, *including an own `__proto__` key*. Converted: a `Date` to its ISO string. Refused
 * with `AUDIT_VALUE_UNSUPPORTED`: `undefined` (as a property value or array element), functions,
 * symbols, bigints, `NaN`/`±Infinity`, invalid dates, array holes, and built-ins whose properties do
 * not describe them (`Map`, `Set`, `RegExp`, `Error`, typed arrays, boxed primitives …).
 * Symbol-keyed properties are not data and are skipped (e.g. `SENSITIVE_FIELDS`).
 * @throws AuditError `AUDIT_VALUE_UNSUPPORTED` | `AUDIT_EVENT_TOO_LARGE`
 */
export function toStorableJson(
  value: unknown,
  options: StorableJsonOptions,
  path: string[] = [],
  depth = 0,
): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return assertStorableString(value, path.join('.') || '$');
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw unsupported(path, String(value));
      return Object.is(value, -0) ? 0 : value;
    case 'object': {
      if (depth >= options.maxDepth) {
        throw new AuditError('AUDIT_EVENT_TOO_LARGE', `Audit value nested deeper than ${options.maxDepth}`, {
          details: { path: path.join('.'), maxDepth: options.maxDepth },
        });
      }
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw unsupported(path, 'invalid Date');
        return value.toISOString();
      }
      if (ArrayBuffer.isView(value) || OPAQUE.some((C) => value instanceof C)) {
        throw unsupported(path, (value as object).constructor?.name ?? 'object');
      }
      if (Array.isArray(value)) {
        const out: JsonValue[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw unsupported(path, 'array hole');
          out[i] = toStorableJson(value[i], options, path, depth + 1);
        }
        return out;
      }
      const out: { [key: string]: JsonValue } = {};
      for (const k of Object.keys(value)) {
        assertStorableString(k, path.join('.'));
        const v = (value as Record<string, unknown>)[k];
        const childPath = [...path, k.toLowerCase()];
        const json =
          options.isMasked?.(childPath, k, value) === true
            ? (options.replacement ?? '[REDACTED]')
            : toStorableJson(v, options, childPath, depth + 1);
        // defineProperty, not assignment: an own `__proto__` key is data and must stay data.
        Object.defineProperty(out, k, { value: json, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      // undefined, function, symbol, bigint
      throw unsupported(path, typeof value);
  }
}
