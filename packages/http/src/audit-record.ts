import { type Actor, type AuditPortEvent, maskKeyName } from '@tenantry/core';
import { defineOwn, invalid, isObject } from './validation.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether requests with this method change state and are audited. */
export function isMutatingMethod(method: string): boolean {
  if (typeof method !== 'string') invalid('HTTP method', [], 'must be a string');
  // No method name is longer; a longer string is no mutating method, and is not walked.
  return method.length <= 16 && MUTATING.has(method.toUpperCase());
}

/** What an adapter knows about a finished request. */
export interface RequestAuditInput {
  readonly tenantId: string | undefined;
  readonly actor: Actor;
  readonly impersonator: Actor | undefined;
  readonly method: string;
  /** The matched route pattern (`/ops/invoices/:id`), or the path when no route matched. */
  readonly route: string;
  /** The resource acted on, if the route names one (`{ type: 'invoice', id: '42' }`). */
  readonly resource?: { readonly type: string; readonly id?: string };
  /** The status the response was decided with. */
  readonly status: number;
  readonly ip?: string;
  readonly userAgent?: string;
  readonly requestId?: string;
  /** The parsed request body, when body auditing is on; masked here by `maskPaths`. */
  readonly body?: unknown;
  /** Dotted paths to mask in the body (`card.number`, `items.*.iban`). */
  readonly maskPaths?: readonly string[];
  /** Key names masked wherever they occur in the body, compared as core's `maskKeyName`s. */
  readonly maskKeys?: ReadonlySet<string>;
}

/** The placeholder written instead of a masked value. */
export const MASK = '[MASKED]';
const MAX_DEPTH = 8;

function maskAt(value: unknown, path: readonly string[]): unknown {
  if (path.length === 0) return MASK;
  if (value === null || typeof value !== 'object') return value;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) {
    if (head === '*') return value.map((v) => maskAt(v, rest));
    const i = Number(head);
    if (!Number.isInteger(i) || i < 0 || i >= value.length) return value;
    const copy = [...value];
    copy[i] = maskAt(copy[i], rest);
    return copy;
  }
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = { ...obj };
  for (const key of head === '*' ? Object.keys(obj) : Object.hasOwn(obj, head) ? [head] : []) {
    defineOwn(out, key, maskAt(obj[key], rest));
  }
  return out;
}

// Sets whose names are mask key names already (the defaults, and each app's configured list, built
// once): others, handed to `maskBody` directly, are converted per call.
const NORMALIZED = new WeakSet<ReadonlySet<string>>();

/** @internal A set of mask key names built from `names`, used as is by {@link maskBody}. */
export function maskKeySet(names: Iterable<string>): ReadonlySet<string> {
  const set = new Set<string>();
  for (const n of names) {
    if (typeof n !== 'string') invalid('mask keys', [], 'must be key names (strings)');
    set.add(maskKeyName(n));
  }
  NORMALIZED.add(set);
  return set;
}

/**
 * Key names masked anywhere in an audited body unless the host configures its own list, as
 * core's `maskKeyName`s (`apikey` masks `apiKey`, `api_key` and `API-KEY`).
 */
export const DEFAULT_MASKED_KEYS: ReadonlySet<string> = new Set([
  'password',
  'passwordconfirmation',
  'currentpassword',
  'newpassword',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'secret',
  'clientsecret',
  'apikey',
  'authorization',
  'cardnumber',
  'cvv',
  'cvc',
  'iban',
  'ssn',
  'otp',
]);
NORMALIZED.add(DEFAULT_MASKED_KEYS);

// How far a masked copy goes: an audited body is also bounded (depth, keys per level, string length);
// a view shown to people keeps its values whole, with a depth guard only.
interface Bounds {
  readonly maxDepth: number;
  readonly maxItems: number;
  readonly maxString: number;
}
const AUDIT_BOUNDS: Bounds = { maxDepth: MAX_DEPTH, maxItems: 100, maxString: 1024 };
const VIEW_BOUNDS: Bounds = {
  maxDepth: 64,
  maxItems: Number.POSITIVE_INFINITY,
  maxString: Number.POSITIVE_INFINITY,
};

function prune(value: unknown, depth: number, keys: ReadonlySet<string>, b: Bounds): unknown {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'string' && value.length > b.maxString
      ? `${value.slice(0, b.maxString)}…`
      : value;
  }
  if (depth >= b.maxDepth) return '[TRUNCATED]';
  if (Array.isArray(value)) return value.slice(0, b.maxItems).map((v) => prune(v, depth + 1, keys, b));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, b.maxItems)) {
    defineOwn(out, k, keys.has(maskKeyName(k)) ? MASK : prune(v, depth + 1, keys, b));
  }
  return out;
}

/**
 * @internal A copy of `value` with every key named in `keys` (a {@link maskKeySet}) masked at any
 * depth, values otherwise whole (nesting deeper than 64 is cut): what a person may be shown.
 */
export function maskForView(value: unknown, keys: ReadonlySet<string>): unknown {
  return prune(value, 0, keys, VIEW_BOUNDS);
}

function checkMaskPaths(paths: unknown, what: string, key = 'paths'): asserts paths is readonly string[] {
  if (!Array.isArray(paths)) invalid(what, [key], 'must be an array of strings');
  for (let i = 0; i < paths.length; i++) {
    if (typeof paths[i] !== 'string') invalid(what, [key, i], 'must be a string');
  }
}

function checkMaskKeys(keys: unknown, what: string, key = 'keys'): asserts keys is ReadonlySet<string> {
  if (
    typeof (keys as { has?: unknown } | null)?.has !== 'function' ||
    typeof (keys as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function'
  ) {
    invalid(what, [key], 'must be a Set of key names');
  }
}

/**
 * Mask `paths` (each dotted, `*` for every key or element) and every key named in `keys` (at any depth,
 * ignoring case, `-`, `_` and white space: `apiKey` also masks `api_key` and `API-KEY`) in a copy of `body`, and bound its size (depth 8, 100 keys or elements per level,
 * strings cut at 1 KiB).
 * @example maskBody({ user: 'a', card: { no: '4111' } }, ['card.no']) // { user: 'a', card: { no: '[MASKED]' } }
 */
export function maskBody(
  body: unknown,
  paths: readonly string[],
  keys: ReadonlySet<string> = DEFAULT_MASKED_KEYS,
): unknown {
  checkMaskPaths(paths, 'maskBody arguments');
  checkMaskKeys(keys, 'maskBody arguments');
  let out = prune(body, 0, NORMALIZED.has(keys) ? keys : maskKeySet(keys as Iterable<string>), AUDIT_BOUNDS);
  for (const p of paths) out = maskAt(out, p.split('.'));
  return out;
}

/**
 * The outcome of a request as the audit trail names it: 401, 402 (the gatekeeper's `SUBSCRIPTION_*`
 * refusals) and 403 are denials.
 */
export function outcomeOfStatus(status: number): AuditPortEvent['outcome'] {
  if (typeof status !== 'number') invalid('HTTP status', [], 'must be a number');
  if (status === 401 || status === 402 || status === 403) return 'denied';
  return status < 400 ? 'success' : 'failure';
}

const optionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';

/** Cheap structural checks of what an adapter passes in, before anything is read from it. */
function checkAuditInput(input: unknown, occurredAt: unknown): asserts input is RequestAuditInput {
  const what = 'request audit input';
  if (!isObject(input)) invalid(what, [], 'must be an object');
  if (typeof input.method !== 'string' || input.method.length > 16) {
    invalid(what, ['method'], 'must be an HTTP method');
  }
  if (typeof input.route !== 'string') invalid(what, ['route'], 'must be a string');
  if (typeof input.status !== 'number') invalid(what, ['status'], 'must be a number');
  if (!isObject(input.actor)) invalid(what, ['actor'], 'must be an actor');
  if (input.impersonator !== undefined && !isObject(input.impersonator)) {
    invalid(what, ['impersonator'], 'must be an actor');
  }
  if (input.tenantId !== undefined && typeof input.tenantId !== 'string') {
    invalid(what, ['tenantId'], 'must be a string');
  }
  for (const key of ['ip', 'userAgent', 'requestId'] as const) {
    if (!optionalString(input[key])) invalid(what, [key], 'must be a string');
  }
  const resource = input.resource;
  if (
    resource !== undefined &&
    (!isObject(resource) || typeof resource.type !== 'string' || !optionalString(resource.id))
  ) {
    invalid(what, ['resource'], 'must be { type: string, id?: string }');
  }
  if (input.maskPaths !== undefined) checkMaskPaths(input.maskPaths, what, 'maskPaths');
  if (input.maskKeys !== undefined) checkMaskKeys(input.maskKeys, what, 'maskKeys');
  if (!(occurredAt instanceof Date) || Number.isNaN(occurredAt.getTime())) {
    invalid('request audit time', [], 'must be a valid Date');
  }
}

/**
 * The audit event of one request: who (and as whom), the route and resource, outcome and status, IP,
 * user agent, request id, and the body masked by path. Action `http.<method>` (`http.post`).
 */
export function requestAuditEvent(input: RequestAuditInput, occurredAt: Date): AuditPortEvent {
  checkAuditInput(input, occurredAt);
  const method = input.method.toUpperCase();
  const targets: Array<{ type: string; id?: string }> = [{ type: 'route', id: `${method} ${input.route}` }];
  if (input.resource) targets.push({ ...input.resource });
  const request: { ip?: string; userAgent?: string; requestId?: string } = {};
  if (input.ip !== undefined) request.ip = input.ip;
  if (input.userAgent !== undefined) request.userAgent = input.userAgent.slice(0, 512);
  if (input.requestId !== undefined) request.requestId = input.requestId;
  return {
    tenantId: input.tenantId ?? null,
    actor: input.actor,
    ...(input.impersonator ? { impersonator: input.impersonator } : {}),
    action: `http.${method.toLowerCase()}`,
    targets,
    outcome: outcomeOfStatus(input.status),
    occurredAt,
    metadata: {
      method,
      route: input.route,
      status: input.status,
      ...(input.body !== undefined
        ? { body: maskBody(input.body, input.maskPaths ?? [], input.maskKeys) }
        : {}),
    },
    request,
  };
}
