import { trace } from '@opentelemetry/api';
import { z } from 'zod';
import type { TenantConfig, TenantConfigSource } from './config-cache.js';
import { TenantryError } from './errors.js';
import { type Actor, ActorSchema, TenantIdSchema } from './identity.js';
import type { Tenant } from './model/tenant.js';
import { Roles } from './roles.js';
import { withSpan } from './telemetry.js';
import { parseInput } from './validation.js';

/** Why the gatekeeper refused. One distinct, stable code per reason. */
export const GatekeeperCodes = {
  /** No such tenant. */
  TENANT_NOT_FOUND: 'TENANT_NOT_FOUND',
  /** The tenant is still being provisioned. */
  TENANT_PROVISIONING: 'TENANT_PROVISIONING',
  /** The tenant is suspended. */
  TENANT_SUSPENDED: 'TENANT_SUSPENDED',
  /** The tenant is archived. */
  TENANT_ARCHIVED: 'TENANT_ARCHIVED',
  /** The tenant has no subscription and one is required. */
  SUBSCRIPTION_MISSING: 'SUBSCRIPTION_MISSING',
  /** Payment is overdue; only tenant admins may sign in (to settle). */
  SUBSCRIPTION_PAST_DUE: 'SUBSCRIPTION_PAST_DUE',
  /** The subscription is canceled; only tenant admins may sign in (to renew). */
  SUBSCRIPTION_CANCELED: 'SUBSCRIPTION_CANCELED',
  /** The user has not accepted the current terms; show them and record `acceptTerms`. */
  TERMS_NOT_ACCEPTED: 'TERMS_NOT_ACCEPTED',
  /** Platform-wide maintenance: writes refused for all but super admins. */
  MAINTENANCE_GLOBAL: 'MAINTENANCE_GLOBAL',
  /** This tenant is in maintenance: writes refused for all but super admins. */
  MAINTENANCE_TENANT: 'MAINTENANCE_TENANT',
} as const;
/** A gatekeeper refusal code. */
export type GatekeeperCode = (typeof GatekeeperCodes)[keyof typeof GatekeeperCodes];

/** A refusal as an error, for hosts that prefer to throw (adapters map the code to 403/423/451…). */
export class GatekeeperError extends TenantryError {
  declare readonly code: GatekeeperCode;
}

/** What is being asked. */
export const GateRequestSchema = z.object({
  tenantId: TenantIdSchema,
  actor: ActorSchema,
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
  check(request: GateRequest): Promise<GateDecision>;
  /** Like `check`, but throws the refusal. @throws GatekeeperError with a {@link GatekeeperCodes} code */
  assert(request: GateRequest): Promise<Extract<GateDecision, { allowed: true }>>;
}

const hasRole = (actor: Actor, role: string): boolean => actor.roles.includes(role);

/**
 * Build a gatekeeper. Checks, in order: tenant exists and is ACTIVE; subscription not PAST_DUE or
 * CANCELED (tenant admins pass, `settleOnly`); maintenance (global, then tenant) for writes unless
 * SUPER_ADMIN; the user accepted the current terms.
 * @example
 * const gate = createGatekeeper({ config: cache, terms: { currentVersion: '2026-01' } });
 * const d = await gate.check({ tenantId: 'acme', actor: ctx.actor, access: 'write' });
 * if (!d.allowed) return res.status(403).json({ code: d.code });
 */
export function createGatekeeper(options: GatekeeperOptions): Gatekeeper {
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

  const decide = async (
    req: z.output<typeof GateRequestSchema>,
    config: TenantConfig | null,
  ): Promise<GateDecision> => {
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

  const check = async (request: GateRequest): Promise<GateDecision> => {
    const req = parseInput(GateRequestSchema, request, 'gate request');
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
  const checkParsed = async (req: z.output<typeof GateRequestSchema>): Promise<GateDecision> => {
    // One read brings the configuration and, when terms apply, the user's acceptance.
    const agreement =
      options.terms && req.actor.kind === 'user' ? { userId: req.actor.id, document } : undefined;
    return decide(req, await options.config.get(req.tenantId, agreement ? { agreement } : {}));
  };

  return Object.freeze({
    check,
    async assert(request: GateRequest) {
      const d = await check(request);
      if (!d.allowed) throw new GatekeeperError(d.code, d.message, { details: d.details });
      return d;
    },
  });
}
