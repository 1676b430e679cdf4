import { maskKeyName } from '@tenantry/core';
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
  /**
   * Whether the value under `key` is replaced by `replacement`. `path` holds the keys from the root to
   * it as core's `maskKeyName`s (array indices are transparent); it is only valid during the call. `declared` is
   * what `declaredOf` returned for the key's holder (read once per object, not once per key).
   */
  readonly isMasked?: (
    path: readonly string[],
    key: string,
    declared: ReadonlySet<string> | undefined,
  ) => boolean;
  /** The key names an object declares sensitive (see `sensitiveFieldsOf`). */
  readonly declaredOf?: (holder: object) => ReadonlySet<string> | undefined;
  readonly replacement?: string;
  /**
   * Skip object keys whose value is `undefined` instead of refusing them: for schema-shaped parts
   * (actor, targets, request), where zod leaves an optional field that was not given as `undefined`.
   * @default false
   */
  readonly dropUndefined?: boolean;
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

// Cheap pre-test: a string without NUL or any surrogate is storable; only the rest runs the full test.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what must be found
const MAYBE_UNSTORABLE = /[\u0000\ud800-\udfff]/;

function put(o: Record<string, JsonValue>, k: string, v: JsonValue): void {
  // An own `__proto__` key is data and must stay data: assignment would set the prototype. Any other
  // key is assigned (defineProperty costs ~10x more per key); if assignment did not make it an own
  // data property holding `v` (a setter or a read-only property inherited from a tampered
  // Object.prototype), it is defined instead.
  if (k !== '__proto__') {
    try {
      o[k] = v;
    } catch {
      // an inherited read-only property (assignment throws in strict mode): defined below
    }
    if (Object.hasOwn(o, k) && o[k] === v) return;
  }
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function checkString(s: string, path: readonly string[], root: string): void {
  if (MAYBE_UNSTORABLE.test(s)) assertStorableString(s, path.join('.') || root);
}

/** An object key as the walk uses it: its canonical JSON (`"k":`, `,"k":`) and its core's `maskKeyName`. */
interface WalkKey {
  readonly first: string;
  readonly next: string;
  readonly lower: string;
}

// Keys recur from event to event (`id`, `roles`, `method` …): each is checked and encoded once, then
// remembered. Bounded in count and length, so distinct or long keys only cost the uncached path.
const KEYS = new Map<string, WalkKey>();
const MAX_KEYS = 4096;
const MAX_KEY_LENGTH = 64;

/** The key `k` checked (storable, else `AUDIT_VALUE_UNSUPPORTED`) and encoded. */
function keyOf(k: string, path: readonly string[]): WalkKey {
  const known = KEYS.get(k);
  if (known !== undefined) return known;
  checkString(k, path, '');
  const json = JSON.stringify(k);
  const key: WalkKey = { first: `${json}:`, next: `,${json}:`, lower: maskKeyName(k) };
  if (k.length <= MAX_KEY_LENGTH && KEYS.size < MAX_KEYS) KEYS.set(k, key);
  return key;
}

// One walk, shared by `toStorableJson` and `toStorableJsonText`. `path` is a stack (pushed and popped,
// not copied per key). In canonical mode the canonical JSON of the result is collected in `parts` and
// joined once: a string grown with += is a rope of every piece, which the stored event would keep
// alive (measured: ~5x the memory of the flat text, and many more objects for the GC to trace).
interface Walk {
  readonly o: StorableJsonOptions;
  readonly path: string[];
  readonly canonical: boolean;
  readonly parts: string[];
}

function walk(value: unknown, w: Walk, depth: number): JsonValue {
  if (value === null) {
    if (w.canonical) w.parts.push('null');
    return null;
  }
  switch (typeof value) {
    case 'string':
      checkString(value, w.path, '$');
      if (w.canonical) w.parts.push(JSON.stringify(value));
      return value;
    case 'boolean':
      if (w.canonical) w.parts.push(value ? 'true' : 'false');
      return value;
    case 'number': {
      if (!Number.isFinite(value)) throw unsupported(w.path, String(value));
      const n = Object.is(value, -0) ? 0 : value;
      if (w.canonical) w.parts.push(JSON.stringify(n));
      return n;
    }
    case 'object':
      return walkObject(value, w, depth);
    default:
      // undefined, function, symbol, bigint
      throw unsupported(w.path, typeof value);
  }
}

function walkObject(value: object, w: Walk, depth: number): JsonValue {
  const { o, path } = w;
  if (depth >= o.maxDepth) {
    throw new AuditError('AUDIT_EVENT_TOO_LARGE', `Audit value nested deeper than ${o.maxDepth}`, {
      details: { path: path.join('.'), maxDepth: o.maxDepth },
    });
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw unsupported(path, 'invalid Date');
    const iso = value.toISOString();
    if (w.canonical) w.parts.push(JSON.stringify(iso));
    return iso;
  }
  // An object whose prototype is Object.prototype, Array.prototype or null is an instance of none of
  // the opaque classes, so the eleven instanceof tests run only for other prototypes.
  const proto = Object.getPrototypeOf(value);
  if (
    ArrayBuffer.isView(value) ||
    (proto !== Object.prototype &&
      proto !== Array.prototype &&
      proto !== null &&
      OPAQUE.some((C) => value instanceof C))
  ) {
    throw unsupported(path, (value as object).constructor?.name ?? 'object');
  }
  if (Array.isArray(value)) {
    const out: JsonValue[] = new Array(value.length);
    if (w.canonical) w.parts.push('[');
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw unsupported(path, 'array hole');
      if (w.canonical && i > 0) w.parts.push(',');
      out[i] = walk(value[i], w, depth + 1);
    }
    if (w.canonical) w.parts.push(']');
    return out;
  }
  const out: { [key: string]: JsonValue } = {};
  const keys = Object.keys(value);
  // Canonical JSON (RFC 8785) orders keys by UTF-16 code units, which is what sort() compares.
  if (w.canonical) {
    keys.sort();
    w.parts.push('{');
  }
  const declared = o.declaredOf?.(value);
  let first = true;
  for (const k of keys) {
    const key = keyOf(k, path);
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined && o.dropUndefined) continue;
    if (w.canonical) {
      w.parts.push(first ? key.first : key.next);
      first = false;
    }
    path.push(key.lower);
    let json: JsonValue;
    if (o.isMasked?.(path, k, declared) === true) {
      json = o.replacement ?? '[REDACTED]';
      if (w.canonical) w.parts.push(JSON.stringify(json));
    } else {
      json = walk(v, w, depth + 1);
    }
    path.pop();
    put(out, k, json);
  }
  if (w.canonical) w.parts.push('}');
  return out;
}

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
  path: readonly string[] = [],
): JsonValue {
  return walk(value, { o: options, path: [...path], canonical: false, parts: [] }, 0);
}

/**
 * {@link toStorableJson} and the canonical JSON (RFC 8785, as core's `canonicalJson`) of its result,
 * in one walk. Object keys of the result are in canonical (sorted) order.
 * @throws AuditError `AUDIT_VALUE_UNSUPPORTED` | `AUDIT_EVENT_TOO_LARGE`
 */
export function toStorableJsonText(
  value: unknown,
  options: StorableJsonOptions,
): { json: JsonValue; text: string } {
  const w: Walk = { o: options, path: [], canonical: true, parts: [] };
  const json = walk(value, w, 0);
  return { json, text: w.parts.join('') };
}
