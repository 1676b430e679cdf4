import { z } from 'zod';
import { maskKeyName, parseInput } from '@tenantry/core';
import { invalid } from './guards.js';
import {
  type JsonValue,
  type StorableJsonOptions,
  toStorableJson,
  toStorableJsonText,
} from './json-value.js';

/**
 * The property under which an object may list its own sensitive field names, e.g.
 * `{ ssn: '…', [SENSITIVE_FIELDS]: ['ssn'] }`. A global symbol, so duplicate installs agree.
 */
export const SENSITIVE_FIELDS: unique symbol = Symbol.for('tenantry.audit.sensitive') as never;

const REGISTRY_KEY = Symbol.for('tenantry.audit.sensitive-registry');
const slot = globalThis as unknown as Record<symbol, WeakMap<object, Set<string>> | undefined>;
const registry: WeakMap<object, Set<string>> = slot[REGISTRY_KEY] ?? new WeakMap<object, Set<string>>();
slot[REGISTRY_KEY] = registry;

/**
 * Mark fields of a class (every instance) or of one object as sensitive: the masker replaces them
 * wherever such an object appears in metadata or changes. Framework adapters call this from their
 * decorators.
 * @throws ValidationError `VALIDATION_FAILED` for a primitive target or a field that is not a name of 1-256 characters (nothing is marked)
 * @example markSensitive(User, 'passwordHash', 'ssn');
 */
export function markSensitive(target: object, ...fields: string[]): void {
  // Everything is checked before the registry changes, so a bad call marks nothing.
  if ((typeof target !== 'object' || target === null) && typeof target !== 'function') {
    invalid('sensitive fields', 'target', 'must be a class or an object');
  }
  for (const f of fields) {
    if (typeof f !== 'string' || f === '' || f.length > 256) {
      invalid('sensitive fields', 'fields', 'must be field names of 1-256 characters');
    }
  }
  let set = registry.get(target);
  if (!set) {
    set = new Set();
    registry.set(target, set);
  }
  for (const f of fields) set.add(f);
}

/**
 * A field decorator marking a class property as sensitive. Works with TypeScript's standard
 * decorators and with `experimentalDecorators` (as NestJS uses).
 * @example class User { @Sensitive() ssn = ''; }
 */
export function Sensitive(): (target: unknown, context: unknown) => void {
  return (target, context) => {
    if (context && typeof context === 'object' && 'kind' in context) {
      const ctx = context as ClassFieldDecoratorContext;
      ctx.addInitializer(function (this: unknown) {
        if (this && typeof this === 'object') markSensitive((this as object).constructor, String(ctx.name));
      });
      return;
    }
    // Legacy decorators: (prototype, propertyKey).
    if (
      target &&
      typeof target === 'object' &&
      (typeof context === 'string' || typeof context === 'symbol')
    ) {
      markSensitive((target as object).constructor, String(context));
    }
  };
}

/** The sensitive field names declared for `value` (own marker, per-object and per-class registrations). */
export function sensitiveFieldsOf(value: object): ReadonlySet<string> | undefined {
  // A primitive has no fields to mark.
  if ((typeof value !== 'object' || value === null) && typeof value !== 'function') return undefined;
  const names = declaredFields(value);
  // A set of the registry may come back as is: hand out a copy, so no caller can change the registry.
  return names && new Set(names);
}

// The names `value` declares, in the order: its own registration, its SENSITIVE_FIELDS list, its
// classes' registrations. Runs once per object the masker walks, so nothing is allocated unless two
// sources name fields; the result may be a registry set and must not be changed.
function declaredFields(value: object): ReadonlySet<string> | undefined {
  let result: ReadonlySet<string> | undefined = registry.get(value);
  let merged: Set<string> | undefined;
  const own = (value as Record<symbol, unknown>)[SENSITIVE_FIELDS];
  // Names are strings (numbers name array indices); anything else names no key.
  if (Array.isArray(own)) {
    merged = new Set(result);
    for (const n of own) {
      if (typeof n === 'string') merged.add(n);
      else if (typeof n === 'number') merged.add(String(n));
    }
    result = merged;
  }
  for (
    let proto = Object.getPrototypeOf(value);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const names = registry.get(proto.constructor as object);
    if (!names) continue;
    if (result === undefined) {
      result = names;
      continue;
    }
    if (!merged) {
      merged = new Set(result);
      result = merged;
    }
    for (const n of names) merged.add(n);
  }
  return result;
}

/**
 * The masker's default paths: names masked at any depth (`password`, `passwd`, `secret`, `token`,
 * `apiKey`, `authorization`, `cookie`, `accessToken`, `refreshToken`, `idToken`, `clientSecret`,
 * `privateKey`, `newPassword`, `currentPassword`), and `*.token`.
 */
export const DEFAULT_MASKED_PATHS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'secret',
  'token',
  'apiKey',
  'authorization',
  'cookie',
  'accessToken',
  'refreshToken',
  'idToken',
  'clientSecret',
  'privateKey',
  'newPassword',
  'currentPassword',
  '*.token',
]);

/** Options of {@link createMasker}. */
export const MaskingOptionsSchema = z.object({
  /**
   * Paths to mask, dot-separated, each key compared ignoring case, `-`, `_` and white space (`apiKey`
   * matches `api_key` and `API-KEY`). A single name without dots or wildcards (`password`) matches
   * that key at any depth; otherwise the pattern is anchored at the root of `metadata`,
   * `changes.before` and `changes.after`: `*` matches one key, `**` any number. Array indices are
   * transparent: `users.token` matches `users[3].token`.
   * @default DEFAULT_MASKED_PATHS
   */
  paths: z
    .array(z.string().min(1).max(256))
    .max(256)
    .default(() => [...DEFAULT_MASKED_PATHS]),
  /** What masked values become. @default '[REDACTED]' */
  replacement: z.string().max(64).default('[REDACTED]'),
  /** Maximum nesting depth of masked values. @default 8 */
  maxDepth: z.number().int().min(1).max(64).default(8),
});
export type MaskingOptions = z.input<typeof MaskingOptionsSchema>;

/** Masks secrets and personal data and converts the result to storable JSON. */
export interface Masker {
  /**
   * A masked, plain-JSON copy of `value` (see `toStorableJson` for what is kept, converted and
   * refused: nothing is dropped silently, and an own `__proto__` key is kept as data).
   * @throws AuditError `AUDIT_VALUE_UNSUPPORTED` | `AUDIT_EVENT_TOO_LARGE`
   */
  mask(value: unknown): JsonValue;
}

// An anchored pattern, lower-cased and split at dots. Without `**` it matches paths of its own
// length only, which is checked before any segment is compared.
interface Anchored {
  readonly segments: readonly string[];
  readonly globstar: boolean;
}

function matches(segments: readonly string[], pattern: readonly string[], si = 0, pi = 0): boolean {
  if (pi === pattern.length) return si === segments.length;
  const p = pattern[pi]!;
  if (p === '**') {
    for (let k = si; k <= segments.length; k++) if (matches(segments, pattern, k, pi + 1)) return true;
    return false;
  }
  if (si === segments.length) return false;
  return (p === '*' || p === segments[si]) && matches(segments, pattern, si + 1, pi + 1);
}

const canonicalMaskers = new WeakMap<
  Masker,
  (value: unknown, shaped: boolean) => { json: JsonValue; text: string }
>();

/**
 * The one-walk form of a masker made by {@link createMasker}: the masked value and its canonical
 * JSON together (`shaped`: skip keys left `undefined`, for schema-shaped parts). `undefined` for a
 * masker the host wrote itself, which is then called through `mask`.
 * @internal
 */
export const canonicalMaskerOf = (
  masker: Masker,
): ((value: unknown, shaped: boolean) => { json: JsonValue; text: string }) | undefined =>
  canonicalMaskers.get(masker);

/**
 * Create a masker. Masking happens in the process, before an event is handed to any sink.
 * @throws ValidationError `VALIDATION_FAILED` on malformed options
 * @example const masker = createMasker({ paths: ['password', '*.token', 'card.number'] });
 */
export function createMasker(options: MaskingOptions = {}): Masker {
  const opts = parseInput(MaskingOptionsSchema, options, 'masking options');
  const anywhere = new Set<string>();
  const anchored: Anchored[] = [];
  for (const p of opts.paths) {
    if (!p.includes('.') && !p.includes('*')) anywhere.add(maskKeyName(p));
    else {
      const segments = p.split('.').map(maskKeyName);
      anchored.push({ segments, globstar: segments.includes('**') });
    }
  }
  const isMasked = (path: readonly string[], key: string, declared: ReadonlySet<string> | undefined) => {
    if (declared?.has(key) === true || anywhere.has(path[path.length - 1]!)) return true;
    for (const a of anchored) {
      if ((a.globstar || a.segments.length === path.length) && matches(path, a.segments)) return true;
    }
    return false;
  };
  const walkOptions: StorableJsonOptions = {
    maxDepth: opts.maxDepth,
    replacement: opts.replacement,
    isMasked,
    declaredOf: declaredFields,
  };
  const shapedOptions: StorableJsonOptions = { ...walkOptions, dropUndefined: true };
  const masker: Masker = { mask: (value) => toStorableJson(value, walkOptions) };
  canonicalMaskers.set(masker, (value, shaped) =>
    toStorableJsonText(value, shaped ? shapedOptions : walkOptions),
  );
  return masker;
}
