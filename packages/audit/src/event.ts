import { ActorSchema, TenantIdSchema, canonicalJson } from '@tenantry/core';
import { z } from 'zod';
import { AuditError } from './errors.js';
import { invalid, isObject, isRecord } from './guards.js';
import { type JsonValue, toStorableJson } from './json-value.js';
import { type Masker, canonicalMaskerOf } from './masking.js';

/** Chain key of platform-level events (`tenantId: null`); not a valid tenant id, so it never collides with one. */
export const PLATFORM_CHAIN = '$platform';

/** The chain an event belongs to: its tenant, or {@link PLATFORM_CHAIN}. */
export function chainKeyOf(tenantId: string | null): string {
  return tenantId ?? PLATFORM_CHAIN;
}

const short = (max: number) => z.string().min(1).max(max);

/** What a target's `type` may be. @internal */
export const TARGET_TYPE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** What an event's `action` may be. @internal */
export const ACTION_PATTERN = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

// A free-form record, passed through as given: zod's z.record would rebuild it and silently drop an
// own `__proto__` key. Its values are checked (and masked) by `toStorableJson` when the event is built.
const FreeRecordSchema = z.custom<Record<string, unknown>>(
  (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  'must be an object',
);

/** What an event happened to. */
export const AuditTargetSchema = z.object({
  /** Kind of resource, e.g. `invoice`, `tenant`, `secret`: letters, digits, `_`, `.`, `-`. */
  type: z.string().regex(TARGET_TYPE_PATTERN, 'must be 1-64 chars of [A-Za-z0-9_.-]'),
  /** Its id, when it has one. */
  id: short(256).optional(),
});
export type AuditTarget = z.output<typeof AuditTargetSchema>;

/** Request context of an event. */
export const AuditRequestSchema = z.object({
  /** Client IP as the trusted proxy chain resolved it (IPv4 or IPv6). */
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  /** The client's user agent, truncated to 512 characters. */
  userAgent: z
    .string()
    .max(4096)
    .transform((s) => s.slice(0, 512))
    .optional(),
  /** Correlation id of the request or job. */
  requestId: short(256).optional(),
});
export type AuditRequest = z.output<typeof AuditRequestSchema>;

/** One audit event as the application reports it. Parsed with {@link AuditEventInputSchema}. */
export const AuditEventInputSchema = z.object({
  /**
   * The tenant affected: omit it to use the current tenant context; naming it follows core's
   * `resolveTenantId` (inside `runAsTenant(A)` only A, outside any context refused, any inside
   * `runAsSystem`). `null` for platform-level events, which need the system scope.
   */
  tenantId: TenantIdSchema.nullable().optional(),
  /** Who acted, as seen by the application. */
  actor: ActorSchema,
  /** The support person acting as `actor`, when impersonating. Audit trails always name both. */
  impersonator: ActorSchema.optional(),
  /** What happened: dotted lower-case words, e.g. `invoice.voided`, `impersonation.started`. */
  action: z.string().max(128).regex(ACTION_PATTERN, 'must be dotted lower-case words, e.g. invoice.voided'),
  /** What it happened to. @default [] */
  targets: z.array(AuditTargetSchema).max(32).default([]),
  outcome: z.enum(['success', 'failure', 'denied']),
  /** When it happened (Date, epoch milliseconds or ISO string); the log's clock when absent. Stored in whole milliseconds. */
  occurredAt: z
    .union([z.date(), z.number().int().nonnegative(), z.iso.datetime({ offset: true })])
    .transform((v) => new Date(v).getTime())
    .optional(),
  /** Request context, when the event comes from a request. */
  request: AuditRequestSchema.optional(),
  /** Before/after state; masked, then kept within `limits.maxChangesBytes`. See `diffChanges`. */
  changes: z
    .object({
      before: FreeRecordSchema.optional(),
      after: FreeRecordSchema.optional(),
    })
    .optional(),
  /**
   * Small extra context; masked, then kept within `limits.maxMetadataBytes`. Values are stored
   * exactly or refused (`AUDIT_VALUE_UNSUPPORTED`: undefined, functions, symbols, bigints, NaN …).
   */
  metadata: FreeRecordSchema.optional(),
});
export type AuditEventInput = z.input<typeof AuditEventInputSchema>;

/** Size limits of the parts of an event that users fill freely. */
export const AuditLimitsSchema = z.object({
  /** Maximum size of the masked metadata, in bytes of canonical JSON. @default 8192 */
  maxMetadataBytes: z.number().int().min(64).max(1_048_576).default(8192),
  /** Maximum size of the masked before/after changes, in bytes of canonical JSON. @default 32768 */
  maxChangesBytes: z.number().int().min(64).max(4_194_304).default(32_768),
});
export type AuditLimits = z.input<typeof AuditLimitsSchema>;

/**
 * The stored content of an event: exactly what is hashed (as canonical JSON), with every value in a
 * form each store keeps exactly (times in integer milliseconds, masked plain JSON).
 */
export interface AuditEventBody {
  readonly v: 1;
  /** UUIDv7: sortable, not enumerable. */
  readonly id: string;
  readonly tenantId: string | null;
  readonly actor: { id: string; roles: string[]; kind: string; partnerId?: string; displayName?: string };
  readonly impersonator?: AuditEventBody['actor'];
  readonly action: string;
  readonly targets: AuditTarget[];
  readonly outcome: 'success' | 'failure' | 'denied';
  /** Epoch milliseconds. */
  readonly occurredAt: number;
  readonly request?: AuditRequest;
  readonly changes?: { before?: JsonValue; after?: JsonValue };
  readonly metadata?: JsonValue;
}

/** An event ready for a sink: its body and the exact canonical text that will be stored and hashed. */
export interface PreparedEvent {
  readonly id: string;
  /** Tenant id or {@link PLATFORM_CHAIN}. */
  readonly chain: string;
  readonly body: AuditEventBody;
  /** `canonicalJson(body)`: stored as is, hashed as is. */
  readonly text: string;
}

/**
 * The query columns a store keeps beside the hashed text (PostgreSQL, MongoDB). They are not hashed;
 * `verify` checks that they agree with the text, so a forged row cannot make a filtered query lie.
 */
export interface EventIndex {
  readonly id: string;
  readonly actorId: string;
  readonly action: string;
  /** Epoch milliseconds. */
  readonly occurredAt: number;
  /** `type:` and `type:id` for each target, deduplicated, in order. */
  readonly targets: readonly string[];
}

/**
 * The index columns an event's body implies.
 * @throws ValidationError `VALIDATION_FAILED` for a body without an actor object or `{ type, id? }` targets
 */
export function eventIndexOf(body: AuditEventBody): EventIndex {
  const what = 'audit event body';
  if (!isRecord(body)) invalid(what, '', 'must be an object');
  if (!isRecord(body.actor)) invalid(what, 'actor', 'must be an object');
  if (!Array.isArray(body.targets)) invalid(what, 'targets', 'must be an array');
  for (const t of body.targets as ReadonlyArray<Record<string, unknown>>) {
    if (!isRecord(t) || typeof t.type !== 'string' || (t.id !== undefined && typeof t.id !== 'string')) {
      invalid(what, 'targets', 'must hold { type, id? } string pairs');
    }
  }
  return {
    id: body.id,
    actorId: body.actor.id,
    action: body.action,
    occurredAt: body.occurredAt,
    targets: [...new Set(body.targets.flatMap((t) => [`${t.type}:`, `${t.type}:${t.id ?? ''}`]))],
  };
}

/** A stored event with its chain fields. */
export interface ChainedEvent {
  /** The event id (also inside `text`). */
  readonly id: string;
  readonly chain: string;
  /** 1, 2, 3 … per chain, no gaps. */
  readonly seq: number;
  /** When the sink stored it, epoch microseconds (integer); never decreases along a chain. */
  readonly recordedAt: number;
  /** Hash of the previous event of the chain (64 zeros for the first). */
  readonly prevHash: string;
  /** SHA-256 (hex) over the chain fields and `text`. */
  readonly hash: string;
  /** The canonical event text, exactly as hashed. */
  readonly text: string;
  /** The store's query columns, when it keeps them (checked against `text` by `verify`). */
  readonly index?: EventIndex;
}

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

// Schema-shaped parts (actor, targets, request) were validated field by field: an optional field
// left `undefined` is simply absent, so drop those keys before the strict conversion.
function shaped<T>(value: T): T {
  if (Array.isArray(value)) return value.map(shaped) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = shaped(v);
  return out as T;
}

function limited(value: JsonValue, max: number, what: string): JsonValue {
  const size = byteLength(canonicalJson(value));
  if (size > max) {
    throw new AuditError(
      'AUDIT_EVENT_TOO_LARGE',
      `Audit ${what} is ${size} bytes, above the limit of ${max}`,
      {
        details: { what, size, max },
      },
    );
  }
  return value;
}

/**
 * Turn a parsed input into a {@link PreparedEvent}: masks metadata and changes, applies size limits,
 * fixes the id and time. Pure apart from `id` and `now`, which the caller injects.
 * @throws AuditError `AUDIT_EVENT_TOO_LARGE` | `AUDIT_VALUE_UNSUPPORTED`
 * @throws ValidationError `VALIDATION_FAILED` for an input or deps of the wrong shape (checked cheaply, per event)
 */
export function prepareEvent(
  input: z.output<typeof AuditEventInputSchema> & { readonly tenantId: string | null },
  deps: { id: string; now: number; masker: Masker; limits: z.output<typeof AuditLimitsSchema> },
): PreparedEvent {
  // Cheap shape checks only (this runs per event): the input was parsed by AuditEventInputSchema.
  const what = 'prepared audit event';
  if (!isRecord(input)) invalid(what, 'input', 'must be a parsed AuditEventInput');
  if (typeof input.tenantId !== 'string' && input.tenantId !== null) {
    invalid(what, 'input.tenantId', 'must be a tenant id or null');
  }
  if (!isRecord(input.actor)) invalid(what, 'input.actor', 'must be an object');
  if (typeof input.action !== 'string') invalid(what, 'input.action', 'must be a string');
  if (!Array.isArray(input.targets)) invalid(what, 'input.targets', 'must be an array');
  if (typeof input.outcome !== 'string') invalid(what, 'input.outcome', 'must be a string');
  if (input.changes !== undefined && !isRecord(input.changes)) {
    invalid(what, 'input.changes', 'must be an object');
  }
  if (!isRecord(deps)) invalid(what, 'deps', 'must be an object');
  if (typeof deps.id !== 'string') invalid(what, 'deps.id', 'must be a string');
  if (typeof deps.now !== 'number' || !Number.isFinite(deps.now)) {
    invalid(what, 'deps.now', 'must be a finite number');
  }
  if (typeof deps.masker?.mask !== 'function') invalid(what, 'deps.masker', 'must be a Masker');
  if (!isObject(deps.limits)) invalid(what, 'deps.limits', 'must be parsed AuditLimits');
  const one = canonicalMaskerOf(deps.masker);
  const { body, text } = one ? canonicalBody(input, deps, one) : plainBody(input, deps);
  return { id: deps.id, chain: chainKeyOf(input.tenantId), body: body as unknown as AuditEventBody, text };
}

type ParsedEvent = Parameters<typeof prepareEvent>[0];
type PrepareDeps = Parameters<typeof prepareEvent>[1];

// With a masker the host wrote: mask each part through `mask`, then canonical JSON of the whole body.
function plainBody(input: ParsedEvent, deps: PrepareDeps): { body: Record<string, unknown>; text: string } {
  const body: Record<string, unknown> = {
    v: 1,
    id: deps.id,
    tenantId: input.tenantId,
    actor: deps.masker.mask(shaped(input.actor)),
    action: input.action,
    targets: deps.masker.mask(shaped(input.targets)),
    outcome: input.outcome,
    occurredAt: input.occurredAt ?? deps.now,
  };
  if (input.impersonator) body.impersonator = deps.masker.mask(shaped(input.impersonator));
  if (input.request) body.request = deps.masker.mask(shaped(input.request));
  if (input.changes) {
    // Before and after are masked separately, so anchored paths apply to each from its root.
    const changes: Record<string, JsonValue> = {};
    if (input.changes.before) changes.before = deps.masker.mask(input.changes.before);
    if (input.changes.after) changes.after = deps.masker.mask(input.changes.after);
    body.changes = limited(changes, deps.limits.maxChangesBytes, 'changes');
  }
  if (input.metadata) {
    body.metadata = limited(deps.masker.mask(input.metadata), deps.limits.maxMetadataBytes, 'metadata');
  }
  return { body, text: canonicalJson(body) };
}

const tooLarge = (what: string, size: number, max: number): AuditError =>
  new AuditError('AUDIT_EVENT_TOO_LARGE', `Audit ${what} is ${size} bytes, above the limit of ${max}`, {
    details: { what, size, max },
  });

// With a masker of createMasker: each part is masked, checked and written as canonical JSON in one
// walk, and the body's text is put together from the parts' texts (the same bytes as
// `canonicalJson(body)`, without walking the body a second time). Parts are masked in the same order
// as `plainBody`, so the same input fails with the same error.
function canonicalBody(
  input: ParsedEvent,
  deps: PrepareDeps,
  one: (value: unknown, shaped: boolean) => { json: JsonValue; text: string },
): { body: Record<string, unknown>; text: string } {
  const occurredAt = input.occurredAt ?? deps.now;
  const actor = one(input.actor, true);
  const targets = one(input.targets, true);
  const impersonator = input.impersonator ? one(input.impersonator, true) : undefined;
  const request = input.request ? one(input.request, true) : undefined;
  let changes: { json: Record<string, JsonValue>; text: string } | undefined;
  if (input.changes) {
    // Before and after are masked separately, so anchored paths apply to each from its root.
    const json: Record<string, JsonValue> = {};
    const before = input.changes.before ? one(input.changes.before, false) : undefined;
    const after = input.changes.after ? one(input.changes.after, false) : undefined;
    if (before) json.before = before.json;
    if (after) json.after = after.json;
    const text =
      after && before
        ? `{"after":${after.text},"before":${before.text}}`
        : after
          ? `{"after":${after.text}}`
          : before
            ? `{"before":${before.text}}`
            : '{}';
    const size = byteLength(text);
    if (size > deps.limits.maxChangesBytes) throw tooLarge('changes', size, deps.limits.maxChangesBytes);
    changes = { json, text };
  }
  let metadata: { json: JsonValue; text: string } | undefined;
  if (input.metadata) {
    metadata = one(input.metadata, false);
    const size = byteLength(metadata.text);
    if (size > deps.limits.maxMetadataBytes) throw tooLarge('metadata', size, deps.limits.maxMetadataBytes);
  }
  // The body in plainBody's key order; its text with the keys in canonical (UTF-16 code unit) order, as
  // one flat string (joined, not grown with +=, which would keep a rope of every piece alive). A test
  // checks the text against canonicalJson.
  const body: Record<string, unknown> = {
    v: 1,
    id: deps.id,
    tenantId: input.tenantId,
    actor: actor.json,
    action: input.action,
    targets: targets.json,
    outcome: input.outcome,
    occurredAt,
  };
  if (impersonator) body.impersonator = impersonator.json;
  if (request) body.request = request.json;
  if (changes) body.changes = changes.json;
  if (metadata) body.metadata = metadata.json;
  const text = [
    '{"action":',
    JSON.stringify(input.action),
    ',"actor":',
    actor.text,
    changes ? `,"changes":${changes.text}` : '',
    ',"id":',
    JSON.stringify(deps.id),
    impersonator ? `,"impersonator":${impersonator.text}` : '',
    metadata ? `,"metadata":${metadata.text}` : '',
    ',"occurredAt":',
    JSON.stringify(occurredAt),
    ',"outcome":',
    JSON.stringify(input.outcome),
    request ? `,"request":${request.text}` : '',
    ',"targets":',
    targets.text,
    ',"tenantId":',
    JSON.stringify(input.tenantId),
    ',"v":1}',
  ].join('');
  return { body, text };
}

// Compared by their stored form (the same strict conversion as a recorded event, unmasked), so two
// values differ here exactly when they would be stored differently, and a value that cannot be
// stored is refused here already rather than compared by a lossy form.
const DIFF_OPTIONS = { maxDepth: 64 };
const comparable = (v: unknown, key: string): string => canonicalJson(toStorableJson(v, DIFF_OPTIONS, [key]));
const hasOwn = (o: object, k: string) => Object.hasOwn(o, k);
const put = (o: Record<string, unknown>, k: string, v: unknown) =>
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });

/**
 * The fields that differ between two flat records, as a before/after pair for `changes`. Keys are
 * own enumerable keys, an own `__proto__` included; values are compared by their stored form.
 * A key present on one side only is a change.
 * @throws AuditError `AUDIT_VALUE_UNSUPPORTED` for a value that cannot be stored exactly (undefined, a function, a bigint …)
 * @throws ValidationError `VALIDATION_FAILED` when `before` or `after` is not an object (checked before any key is walked)
 * @example diffChanges({ plan: 'free', seats: 3 }, { plan: 'pro', seats: 3 }) // { before: { plan: 'free' }, after: { plan: 'pro' } }
 */
export function diffChanges(
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  // Checked before walking: a string here would be walked key by key (a 10 MB string, for minutes).
  if (!isRecord(before)) invalid('changes to diff', 'before', 'must be an object');
  if (!isRecord(after)) invalid('changes to diff', 'after', 'must be an object');
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const inB = hasOwn(before, key);
    const inA = hasOwn(after, key);
    const same =
      inB &&
      inA &&
      comparable((before as Record<string, unknown>)[key], key) ===
        comparable((after as Record<string, unknown>)[key], key);
    if (!same) {
      if (inB) {
        comparable((before as Record<string, unknown>)[key], key);
        put(b, key, (before as Record<string, unknown>)[key]);
      }
      if (inA) {
        comparable((after as Record<string, unknown>)[key], key);
        put(a, key, (after as Record<string, unknown>)[key]);
      }
    }
  }
  return { before: b, after: a };
}
