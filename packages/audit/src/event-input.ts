import { RoleSchema, TenantIdSchema, parseInput } from '@tenantry/core';
import type { z } from 'zod';
import { ACTION_PATTERN, AuditEventInputSchema, AuditRequestSchema, TARGET_TYPE_PATTERN } from './event.js';

type Parsed = z.output<typeof AuditEventInputSchema>;

// Not sure: let zod decide (and report). Every rule below accepts a subset of what the schema
// accepts and returns what the schema returns for it; a property test checks both against zod.
const UNSURE = Symbol('unsure');
type Unsure = typeof UNSURE;

// Role names and tenant ids recur from event to event: each is checked by core's schema once, then
// remembered (a bounded set per schema, so a flood of distinct values only costs the zod check).
function remembered(schema: { safeParse(v: unknown): { success: boolean } }): (v: unknown) => boolean {
  const known = new Set<string>();
  return (v) => {
    if (typeof v !== 'string') return false;
    if (known.has(v)) return true;
    if (!schema.safeParse(v).success) return false;
    if (known.size < 4096) known.add(v);
    return true;
  };
}
const isRole = remembered(RoleSchema);
const isTenantId = remembered(TenantIdSchema);
const KINDS: ReadonlySet<unknown> = new Set(['user', 'service', 'system']);
const OUTCOMES: ReadonlySet<unknown> = new Set(['success', 'failure', 'denied']);
// Largest time a Date holds (ms): beyond it the schema's transform would make NaN, so zod decides.
const MAX_TIME = 8.64e15;

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
const isPlainArray = (v: unknown): v is unknown[] =>
  Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype;
const str = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max;
const freeRecord = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);

// zod's rule for an optional field: the output has the key when the input has it (`in`), even as
// undefined; an absent key stays absent.
function optional(
  out: Record<string, unknown>,
  input: Record<string, unknown>,
  key: string,
  check: (v: unknown) => unknown,
): boolean {
  if (!(key in input)) return true;
  const v = input[key];
  if (v === undefined) {
    out[key] = undefined;
    return true;
  }
  const r = check(v);
  if (r === UNSURE) return false;
  out[key] = r;
  return true;
}

function actor(v: unknown): Record<string, unknown> | Unsure {
  if (!isPlain(v) || !str(v.id, 1, 256)) return UNSURE;
  const out: Record<string, unknown> = { id: v.id };
  const roles = v.roles;
  if (roles === undefined) out.roles = [];
  else {
    if (!isPlainArray(roles) || roles.length > 64) return UNSURE;
    for (const r of roles) if (!isRole(r)) return UNSURE;
    out.roles = [...roles];
  }
  if (v.kind === undefined) out.kind = 'user';
  else if (KINDS.has(v.kind)) out.kind = v.kind;
  else return UNSURE;
  if (!optional(out, v, 'partnerId', (p) => (str(p, 1, 128) ? p : UNSURE))) return UNSURE;
  if (!optional(out, v, 'displayName', (d) => (str(d, 0, 256) ? d : UNSURE))) return UNSURE;
  return out;
}

function target(v: unknown): Record<string, unknown> | Unsure {
  if (!isPlain(v) || typeof v.type !== 'string' || !TARGET_TYPE_PATTERN.test(v.type)) return UNSURE;
  const out: Record<string, unknown> = { type: v.type };
  return optional(out, v, 'id', (id) => (str(id, 1, 256) ? id : UNSURE)) ? out : UNSURE;
}

const ipSchema = AuditRequestSchema.shape.ip;
function request(v: unknown): Record<string, unknown> | Unsure {
  if (!isPlain(v)) return UNSURE;
  const out: Record<string, unknown> = {};
  // The address formats are zod's own: asked of zod, for this one field.
  if (
    !optional(out, v, 'ip', (ip) => (typeof ip === 'string' && ipSchema.safeParse(ip).success ? ip : UNSURE))
  )
    return UNSURE;
  if (!optional(out, v, 'userAgent', (ua) => (str(ua, 0, 4096) ? ua.slice(0, 512) : UNSURE))) return UNSURE;
  if (!optional(out, v, 'requestId', (id) => (str(id, 1, 256) ? id : UNSURE))) return UNSURE;
  return out;
}

function occurredAt(v: unknown): number | Unsure {
  if (v instanceof Date) {
    return Object.getPrototypeOf(v) === Date.prototype && !Number.isNaN(v.getTime())
      ? new Date(v).getTime()
      : UNSURE;
  }
  return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_TIME
    ? new Date(v as number).getTime()
    : UNSURE;
}

function changes(v: unknown): Record<string, unknown> | Unsure {
  if (!isPlain(v)) return UNSURE;
  const out: Record<string, unknown> = {};
  const free = (x: unknown) => (freeRecord(x) ? x : UNSURE);
  return optional(out, v, 'before', free) && optional(out, v, 'after', free) ? out : UNSURE;
}

/**
 * What `AuditEventInputSchema` returns for `input`, for the inputs audit events are made of (plain
 * objects and arrays, Dates or epoch milliseconds, IPs as zod checks them), or `UNSURE` for anything
 * else (ISO strings, class instances, anything the schema refuses): those go to zod.
 */
function fastParse(input: unknown): Parsed | Unsure {
  if (!isPlain(input)) return UNSURE;
  const out: Record<string, unknown> = {};
  if (!optional(out, input, 'tenantId', (t) => (t === null || isTenantId(t) ? t : UNSURE))) return UNSURE;
  if (!('actor' in input)) return UNSURE;
  const a = actor(input.actor);
  if (a === UNSURE) return UNSURE;
  out.actor = a;
  if (!optional(out, input, 'impersonator', actor)) return UNSURE;
  const action = input.action;
  if (typeof action !== 'string' || action.length > 128 || !ACTION_PATTERN.test(action)) return UNSURE;
  out.action = action;
  const targets = input.targets;
  if (targets === undefined) out.targets = [];
  else {
    if (!isPlainArray(targets) || targets.length > 32) return UNSURE;
    const ts: unknown[] = [];
    for (const t of targets) {
      const r = target(t);
      if (r === UNSURE) return UNSURE;
      ts.push(r);
    }
    out.targets = ts;
  }
  if (!OUTCOMES.has(input.outcome)) return UNSURE;
  out.outcome = input.outcome;
  if (!optional(out, input, 'occurredAt', occurredAt)) return UNSURE;
  if (!optional(out, input, 'request', request)) return UNSURE;
  if (!optional(out, input, 'changes', changes)) return UNSURE;
  if (!optional(out, input, 'metadata', (m) => (freeRecord(m) ? m : UNSURE))) return UNSURE;
  return out as Parsed;
}

/**
 * Parse an event input: `AuditEventInputSchema`'s result, computed without zod for the usual shapes
 * (this runs once per event) and by zod otherwise, which also reports every refusal.
 * @throws ValidationError `VALIDATION_FAILED` (from zod, with paths, never values)
 * @internal
 */
export function parseEventInput(input: unknown): Parsed {
  let fast: Parsed | Unsure;
  try {
    fast = fastParse(input);
  } catch {
    // A getter or Proxy trap that throws: zod reads it again and reports it as a typed error.
    fast = UNSURE;
  }
  return fast === UNSURE ? parseInput(AuditEventInputSchema, input, 'audit event') : fast;
}

/** @internal for the property test that checks the fast path against zod */
export const fastParseForTest = (input: unknown): Parsed | undefined => {
  const r = fastParse(input);
  return r === UNSURE ? undefined : r;
};
