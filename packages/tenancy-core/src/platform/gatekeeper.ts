import { trace } from '@opentelemetry/api';
import { z } from 'zod';
import type { TenantConfig, TenantConfigSource } from './config-cache.js';
import { type CoreErrorCode, TenantryError } from '../kernel/errors.js';
import { type Actor, ActorSchema, TenantIdSchema } from '../kernel/identity.js';
import type { Tenant } from './model/tenant.js';
import { Roles } from '../kernel/roles.js';
import { noTracerInstalled, withSpan } from '../kernel/telemetry.js';
import { ValidationError, parseInput, requireOptionsObject } from '../kernel/validation.js';
import { currentTenantContext } from '../kernel/context.js';
import { resolveTenantId } from '../kernel/tenant-resolution.js';

/** Why the gatekeeper refused: one distinct, stable code per reason (entries of `CoreErrorCodes`). */
export type GatekeeperCode = Extract<
  CoreErrorCode,
  | 'TENANT_NOT_FOUND'
  | 'TENANT_PROVISIONING'
  | 'TENANT_SUSPENDED'
  | 'TENANT_ARCHIVED'
  | 'SUBSCRIPTION_MISSING'
  | 'SUBSCRIPTION_PAST_DUE'
  | 'SUBSCRIPTION_CANCELED'
  | 'TERMS_NOT_ACCEPTED'
  | 'MAINTENANCE_GLOBAL'
  | 'MAINTENANCE_TENANT'
>;

/** A refusal as an error, for hosts that prefer to throw (its `status` comes from `CoreErrorCodes`). */
export class GatekeeperError extends TenantryError {
  declare readonly code: GatekeeperCode;
}

/** What is being asked. */
export const GateRequestSchema = z.object({
  /** The tenant, resolved with `resolveTenantId`: the context's when omitted; another only inside `runAsSystem`. */
  tenantId: TenantIdSchema.optional(),
  /** Who asks; the context's actor when omitted. */
  actor: ActorSchema.optional(),
  /** Reads pass maintenance mode; writes do not. @default 'write' (fails closed if the caller forgets) */
  access: z.enum(['read', 'write']).default('write'),
});
/** Input of {@link Gatekeeper.check}. */
export type GateRequest = z.input<typeof GateRequestSchema>;

/** The gatekeeper's answer. */
export type GateDecision =
  | {
      allowed: true;
      tenant: Tenant;
      /**
       * `true` when the actor is let in only to settle an unpaid (PAST_DUE/CANCELED) subscription:
       * the host should limit them to billing.
       */
      settleOnly: boolean;
    }
  | { allowed: false; code: GatekeeperCode; message: string; details: Readonly<Record<string, unknown>> };

/** The terms the users must have accepted. */
export interface TermsRequirement {
  /** @default 'terms-of-service' */
  document?: string;
  /** The current version, or a function choosing it per tenant (e.g. per partner or region); `undefined` = none required. */
  currentVersion: string | ((tenant: Tenant) => string | undefined);
}

/** Options of {@link createGatekeeper}. */
export interface GatekeeperOptions {
  /**
   * Tenant configuration and terms acceptances: a `TenantConfigCache` (recommended; acceptances are
   * cached and invalidated like the rest) or `directConfigSource(store)`.
   */
  config: TenantConfigSource;
  /** Terms to enforce for `user` actors (service and system actors never accept terms). */
  terms?: TermsRequirement;
  /** Refuse tenants without any subscription. @default false */
  requireSubscription?: boolean;
}

/** Decides whether an actor may use a tenant now. */
export interface Gatekeeper {
  /** The decision, without throwing for refusals. @throws `VALIDATION_FAILED` on malformed input */
  check(request?: GateRequest): Promise<GateDecision>;
  /**
   * `check`'s decision given at once, with no I/O and no promise, when the configuration source can
   * answer from memory (a started `TenantConfigCache` holding the tenant, see `peek`) and no
   * OpenTelemetry SDK is installed (a span needs `check`); `undefined` otherwise: then call `check`.
   * Refusals are returned, not thrown, as by `check`.
   * Optional in this interface so that hosts' own gatekeepers need not have it; `createGatekeeper`'s has.
   * @throws `VALIDATION_FAILED` on malformed input; `TENANT_CONTEXT_MISSING`, `TENANT_CONTEXT_CONFLICT`
   */
  checkNow?(request?: GateRequest): GateDecision | undefined;
  /** Like `check`, but throws the refusal. @throws GatekeeperError with a {@link GatekeeperCode} */
  assert(request?: GateRequest): Promise<Extract<GateDecision, { allowed: true }>>;
}

interface Resolved {
  tenantId: string;
  actor: Actor;
  access: 'read' | 'write';
}

const hasRole = (actor: Actor, role: string): boolean => actor.roles.includes(role);

/** The access of a plain `{ access: 'read' | 'write' }` (what `GateRequestSchema` would output unchanged), else `undefined`. */
function accessOnly(request: GateRequest): 'read' | 'write' | undefined {
  if (typeof request !== 'object' || request === null || Object.getPrototypeOf(request) !== Object.prototype)
    return undefined;
  let keys = 0;
  for (const _ in request) keys++;
  if (keys !== 1) return undefined;
  const access = request.access; // read once: a getter cannot pass the check and then change
  return access === 'read' || access === 'write' ? access : undefined;
}

/**
 * Build a gatekeeper. `check` runs inside the tenant's context (enter `runAsTenant` from the verified
 * credentials, then ask), or inside `runAsSystem` naming the tenant; the tenant is resolved with
 * `resolveTenantId` (T1). Platform-level data (global maintenance) is read in any context. Checks, in order: tenant exists and is ACTIVE; subscription not PAST_DUE or
 * CANCELED (tenant admins pass, `settleOnly`); maintenance (global, then tenant) for writes unless
 * SUPER_ADMIN; the user accepted the current terms.
 * @example
 * const gate = createGatekeeper({ config: cache, terms: { currentVersion: '2026-01' } });
 * const d = await runAsTenant(ctx, () => gate.check({ access: 'write' })); // tenant and actor from the context
 * if (!d.allowed) return res.status(403).json({ code: d.code });
 */
export function createGatekeeper(options: GatekeeperOptions): Gatekeeper {
  requireOptionsObject(options, 'gatekeeper options');
  const document = options.terms?.document ?? 'terms-of-service';

  const refuse = (
    code: GatekeeperCode,
    message: string,
    details: Record<string, unknown> = {},
  ): GateDecision => ({
    allowed: false,
    code,
    message,
    details: Object.freeze(details),
  });

  const decide = (req: Resolved, config: TenantConfig | null): GateDecision => {
    if (!config) return refuse('TENANT_NOT_FOUND', 'No such tenant', { tenantId: req.tenantId });
    const { tenant, subscription, platform } = config;
    const base = { tenantId: tenant.id };
    if (tenant.status === 'ARCHIVED') return refuse('TENANT_ARCHIVED', 'The tenant is archived', base);
    if (tenant.status === 'SUSPENDED') return refuse('TENANT_SUSPENDED', 'The tenant is suspended', base);
    if (tenant.status === 'PROVISIONING')
      return refuse('TENANT_PROVISIONING', 'The tenant is not ready yet', base);

    let settleOnly = false;
    if (!subscription) {
      if (options.requireSubscription)
        return refuse('SUBSCRIPTION_MISSING', 'The tenant has no subscription', base);
    } else if (subscription.status === 'PAST_DUE' || subscription.status === 'CANCELED') {
      if (!hasRole(req.actor, Roles.TENANT_ADMIN)) {
        return subscription.status === 'PAST_DUE'
          ? refuse('SUBSCRIPTION_PAST_DUE', 'Payment is overdue; a tenant admin must settle it', base)
          : refuse(
              'SUBSCRIPTION_CANCELED',
              'The subscription is canceled; a tenant admin may renew it',
              base,
            );
      }
      settleOnly = true;
    }

    if (req.access === 'write' && !hasRole(req.actor, Roles.SUPER_ADMIN)) {
      if (platform.maintenance)
        return refuse('MAINTENANCE_GLOBAL', 'The platform is in maintenance; writes are paused', base);
      if (tenant.maintenance)
        return refuse('MAINTENANCE_TENANT', 'The tenant is in maintenance; writes are paused', base);
    }

    if (options.terms && req.actor.kind === 'user') {
      const required =
        typeof options.terms.currentVersion === 'function'
          ? options.terms.currentVersion(tenant)
          : options.terms.currentVersion;
      if (required !== undefined) {
        const accepted = config.agreement;
        if (accepted?.version !== required) {
          return refuse('TERMS_NOT_ACCEPTED', 'The current terms have not been accepted', {
            ...base,
            document,
            currentVersion: required,
            acceptedVersion: accepted?.version ?? null,
          });
        }
      }
    }
    return { allowed: true, tenant, settleOnly };
  };

  const resolve = (request: GateRequest): Resolved => {
    // The adapters ask `{ access }` on every request: that shape needs no zod; anything else is parsed.
    const access = accessOnly(request);
    const parsed =
      access !== undefined
        ? { access, tenantId: undefined, actor: undefined }
        : parseInput(GateRequestSchema, request, 'gate request');
    const tenantId = resolveTenantId(parsed.tenantId, 'gatekeeper check');
    const actor = parsed.actor ?? currentTenantContext()?.actor;
    if (actor === undefined) {
      throw new ValidationError('gate request', [
        { path: ['actor'], message: 'required outside a tenant context' },
      ]);
    }
    return { tenantId, actor, access: parsed.access };
  };
  const agreementOf = (req: Resolved) =>
    // One read brings the configuration and, when terms apply, the user's acceptance.
    options.terms && req.actor.kind === 'user' ? { userId: req.actor.id, document } : undefined;

  const checkNow = (request: GateRequest = {}): GateDecision | undefined => {
    const peek = options.config.peek;
    if (typeof peek !== 'function' || !noTracerInstalled('core')) return undefined;
    const req = resolve(request);
    const agreement = agreementOf(req);
    const config = peek.call(options.config, req.tenantId, agreement ? { agreement } : {});
    return config === undefined ? undefined : decide(req, config);
  };

  const check = async (request: GateRequest = {}): Promise<GateDecision> => {
    const req = resolve(request);
    return withSpan(
      'core',
      'gatekeeper.check',
      { 'tenantry.tenant_id': req.tenantId, 'tenantry.access': req.access },
      async () => {
        const d = await checkParsed(req);
        trace.getActiveSpan()?.setAttribute('tenantry.decision', d.allowed ? 'allowed' : d.code);
        return d;
      },
    );
  };
  const checkParsed = async (req: Resolved): Promise<GateDecision> => {
    const agreement = agreementOf(req);
    return decide(req, await options.config.get(req.tenantId, agreement ? { agreement } : {}));
  };

  return Object.freeze({
    check,
    checkNow,
    async assert(request?: GateRequest) {
      const d = await check(request);
      if (!d.allowed) throw new GatekeeperError(d.code, d.message, { details: d.details });
      return d;
    },
  });
}
