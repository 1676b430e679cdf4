import { AsyncLocalStorage } from 'node:async_hooks';
import { z } from 'zod';
import { TenantryError } from './errors.js';
import {
  ActorSchema,
  type Actor,
  type ActorInput,
  TENANT_ID_PATTERN,
  TenantContextSchema,
  type TenantContext,
  type TenantContextInput,
} from './identity.js';
import type { AuditPort } from './ports/audit-port.js';
import { systemClock, type Clock } from './ports/clock.js';
import { parseInput, requireFunction } from './validation.js';

/** An explicit, audited scope for work that spans tenants (migrations, billing runs, support tooling). */
export interface SystemScope {
  readonly actor: Actor;
  readonly reason: string;
  readonly enteredAt: Date;
}

interface ContextFrame {
  readonly tenant?: TenantContext;
  readonly system?: SystemScope;
  /** Set by `runWithoutContext` inside a tenant's context: the tenant that was left, which only it (or the system scope) may re-enter. */
  readonly detachedFrom?: string;
}

// One storage per realm: a duplicated install of this package would otherwise see an empty context.
const STORAGE_KEY = Symbol.for('tenantry.context.storage');
const globalSlot = globalThis as unknown as Record<symbol, AsyncLocalStorage<ContextFrame> | undefined>;
const storage: AsyncLocalStorage<ContextFrame> =
  globalSlot[STORAGE_KEY] ?? new AsyncLocalStorage<ContextFrame>();
globalSlot[STORAGE_KEY] = storage;

function deepFreeze<T>(value: T): T {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: Object.isFrozen is true for every primitive and null
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// Actors that came out of ActorSchema and were deep-frozen: they cannot have changed since, so a
// context naming them needs no second parse (a verified token's actor is entered on every request).
const validatedActors = new WeakSet<object>();

/**
 * Parse an actor once and freeze it. A context whose actor (and impersonator) came from here is
 * entered by {@link runAsTenant} without validating the actor again: parse the actor of a verified
 * token once, then enter it on every request.
 * @throws ValidationError `VALIDATION_FAILED` on a malformed actor (paths only, never values)
 * @example const actor = parseActor({ id: claims.sub, roles: claims.roles }, 'token subject');
 */
export function parseActor(input: unknown, what = 'actor'): Actor {
  const actor = deepFreeze(parseInput(ActorSchema, input, what));
  validatedActors.add(actor);
  return actor;
}

/**
 * The context as `TenantContextSchema` would output it, built without zod when its actors are
 * already validated and the scalars pass the same checks; `undefined` sends it to the full parse.
 */
function prevalidated(input: TenantContextInput): TenantContext | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  // Read each field once: a getter cannot answer one value to the check and another to the copy.
  let fields: TenantContextInput;
  try {
    fields = { ...input };
  } catch {
    return undefined; // a getter or Proxy trap threw: the full parse reports it as VALIDATION_FAILED
  }
  const { tenantId, actor, impersonator, requestId } = fields;
  if (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId)) return undefined;
  if (typeof actor !== 'object' || actor === null || !validatedActors.has(actor)) return undefined;
  if (
    impersonator !== undefined &&
    (typeof impersonator !== 'object' || impersonator === null || !validatedActors.has(impersonator))
  )
    return undefined;
  if (
    requestId !== undefined &&
    (typeof requestId !== 'string' || requestId.length < 1 || requestId.length > 256)
  )
    return undefined;
  const context: { -readonly [K in keyof TenantContext]: TenantContext[K] } = {
    tenantId,
    actor: actor as Actor,
  };
  if (impersonator !== undefined) context.impersonator = impersonator as Actor;
  if (requestId !== undefined) context.requestId = requestId;
  return Object.freeze(context);
}

/**
 * Run `fn` as a tenant and an actor. Everything `fn` starts (awaits, timers, emitters it emits on,
 * streams it drives) sees this context. Uses `AsyncLocalStorage.run`, never `enterWith`, so the
 * context ends with `fn` and cannot leak into unrelated work.
 *
 * Switching to another tenant inside a tenant context is refused: cross-tenant work must happen
 * inside {@link runAsSystem}.
 * @throws ValidationError `VALIDATION_FAILED` on a malformed context
 * @throws TenantryError `TENANT_CONTEXT_CONFLICT` when nested inside another tenant's context outside a system scope
 * @example
 * await runAsTenant({ tenantId: 'acme', actor: { id: 'u1', roles: ['MANAGER'] } }, () => createInvoice());
 */
export function runAsTenant<R>(context: TenantContextInput, fn: () => R): R {
  let tenant = prevalidated(context);
  if (tenant === undefined) {
    tenant = deepFreeze(parseInput(TenantContextSchema, context, 'tenant context'));
    validatedActors.add(tenant.actor);
    if (tenant.impersonator) validatedActors.add(tenant.impersonator);
  }
  const parent = storage.getStore();
  const from = parent?.tenant?.tenantId ?? parent?.detachedFrom;
  // Stryker disable next-line OptionalChaining: `from` is defined only when `parent` is
  if (from !== undefined && from !== tenant.tenantId && !parent?.system) {
    throw new TenantryError(
      'TENANT_CONTEXT_CONFLICT',
      'Cannot enter another tenant from inside a tenant context; use runAsSystem for cross-tenant work',
      { details: { from, to: tenant.tenantId } },
    );
  }
  return storage.run({ tenant, system: parent?.system }, fn);
}

/**
 * The whole current frame (tenant and system scope) in one storage read, for core's tenant resolution
 * on the hot path. Not exported from the package.
 * @internal
 */
export function currentFrame():
  | { readonly tenant?: TenantContext; readonly system?: SystemScope }
  | undefined {
  return storage.getStore();
}

/**
 * The one tenant the current code may act for, if it is confined to one: the context's tenant, or
 * inside {@link runWithoutContext} (or a function bound outside any context and called from a
 * tenant's), the tenant that was left. `undefined` outside any tenant and inside a system scope. For
 * channels that accept a named tenant where no context is active (an audit port), so that code which
 * left tenant A still cannot name tenant B.
 */
export function confinedTenantId(): string | undefined {
  const frame = storage.getStore();
  if (frame === undefined || frame.system !== undefined) return undefined;
  return frame.tenant?.tenantId ?? frame.detachedFrom;
}

/** The current tenant context, or `undefined` outside one. Prefer {@link requireTenant} where a tenant is mandatory. */
export function currentTenantContext(): TenantContext | undefined {
  return storage.getStore()?.tenant;
}

/**
 * The current tenant context. A missing context is an error, never "all tenants" (invariant T1).
 * @throws TenantryError `TENANT_CONTEXT_MISSING`
 * @example const { tenantId } = requireTenant();
 */
export function requireTenant(): TenantContext {
  const tenant = storage.getStore()?.tenant;
  if (!tenant) {
    throw new TenantryError(
      'TENANT_CONTEXT_MISSING',
      'This operation needs a tenant context and none is active; run it inside runAsTenant(ctx, fn)',
    );
  }
  return tenant;
}

/**
 * The current tenant id.
 * @throws TenantryError `TENANT_CONTEXT_MISSING`
 */
export function requireTenantId(): string {
  return requireTenant().tenantId;
}

/** The active system scope, if any. */
export function currentSystemScope(): SystemScope | undefined {
  return storage.getStore()?.system;
}

/** Options for {@link runAsSystem}. */
export const SystemScopeOptionsSchema = z.object({
  actor: ActorSchema,
  /** Why cross-tenant access is needed; recorded in the audit trail. */
  reason: z.string().trim().min(3).max(500),
});
export type SystemScopeOptions = z.input<typeof SystemScopeOptionsSchema>;

/**
 * Run `fn` in an explicit system scope, the only place where code may move between tenants.
 * Entering is recorded through the audit port *before* `fn` runs; if that write fails, `fn` does not
 * run (fail closed). Leaving is recorded with the outcome.
 * @throws ValidationError `VALIDATION_FAILED` when actor or reason is missing
 * @example
 * await runAsSystem({ actor: { id: 'billing-job', kind: 'service' }, reason: 'nightly invoicing' }, audit, async () => {
 *   for (const t of tenants) await runAsTenant({ tenantId: t, actor: ... }, () => invoice(t));
 * });
 */
export async function runAsSystem<R>(
  options: SystemScopeOptions,
  audit: AuditPort,
  fn: () => Promise<R> | R,
  clock: Clock = systemClock,
): Promise<R> {
  const parsed = parseInput(SystemScopeOptionsSchema, options, 'system scope');
  const scope: SystemScope = deepFreeze({
    actor: parsed.actor,
    reason: parsed.reason,
    enteredAt: clock.now(),
  });
  const base = {
    tenantId: null,
    actor: scope.actor,
    targets: [{ type: 'system-scope' }],
    metadata: { reason: scope.reason },
  };
  await audit.record({
    ...base,
    action: 'system_scope.entered',
    outcome: 'success',
    occurredAt: scope.enteredAt,
  });
  try {
    const result = await storage.run({ system: scope }, fn);
    await audit.record({
      ...base,
      action: 'system_scope.exited',
      outcome: 'success',
      occurredAt: clock.now(),
    });
    return result;
  } catch (error) {
    await audit.record({
      ...base,
      action: 'system_scope.exited',
      outcome: 'failure',
      occurredAt: clock.now(),
    });
    throw error;
  }
}

/**
 * Bind `fn` to the context that is current now, so it runs in that context whoever calls it later:
 * use it for listeners on emitters that outlive the request (sockets, shared buses), where Node
 * would otherwise run the listener in the *emitter's* context, possibly another tenant's.
 * Bound outside any context, the function runs as {@link runWithoutContext} would run it where it is
 * called: with no context, and when called from inside a tenant's context, still unable to enter
 * another tenant (`TENANT_CONTEXT_CONFLICT`; that goes through the audited `runAsSystem`).
 * @example bus.on('message', bindToCurrentContext((m) => handle(m)));
 */
export function bindToCurrentContext<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const frame = storage.getStore();
  return (...args: A) =>
    frame ? storage.run(frame, () => fn(...args)) : runWithoutContext(() => fn(...args));
}

/**
 * Run `fn` with no tenant or system context, e.g. for a background task spawned from a request that
 * must not inherit it. Leaving a tenant's context this way is not a way into another tenant's: inside
 * `fn`, `runAsTenant` may re-enter only the tenant that was left (`TENANT_CONTEXT_CONFLICT` otherwise);
 * moving to another tenant goes through the audited {@link runAsSystem}.
 */
export function runWithoutContext<R>(fn: () => R): R {
  requireFunction(fn, 'runWithoutContext callback');
  const frame = storage.getStore();
  const left = frame?.system ? undefined : (frame?.tenant?.tenantId ?? frame?.detachedFrom);
  return left === undefined ? storage.exit(fn) : storage.run({ detachedFrom: left }, fn);
}

export type { ActorInput };
