import { TenancyModelError } from './errors.js';
import type { SubscriptionStatus } from './subscription.js';
import type { TenantStatus } from './tenant.js';

/**
 * The tenant state machine: PROVISIONING → ACTIVE ⇄ SUSPENDED → ARCHIVED. ARCHIVED is final.
 * Archiving needs a suspension first, so an active tenant is never archived by one mistaken call.
 */
export const TENANT_TRANSITIONS: Readonly<Record<TenantStatus, readonly TenantStatus[]>> = Object.freeze({
  PROVISIONING: ['ACTIVE'],
  ACTIVE: ['SUSPENDED'],
  SUSPENDED: ['ACTIVE', 'ARCHIVED'],
  ARCHIVED: [],
});

/**
 * The subscription state machine: TRIAL → ACTIVE → PAST_DUE → CANCELED, plus PAST_DUE → ACTIVE when
 * the tenant pays, TRIAL → PAST_DUE when a trial ends unpaid, and cancellation from any live state.
 * CANCELED is final; start a new subscription instead.
 */
export const SUBSCRIPTION_TRANSITIONS: Readonly<Record<SubscriptionStatus, readonly SubscriptionStatus[]>> =
  Object.freeze({
    TRIAL: ['ACTIVE', 'PAST_DUE', 'CANCELED'],
    ACTIVE: ['PAST_DUE', 'CANCELED'],
    PAST_DUE: ['ACTIVE', 'CANCELED'],
    CANCELED: [],
  });

/** Whether the tenant state machine allows `from → to`. */
export function canTransitionTenant(from: TenantStatus, to: TenantStatus): boolean {
  return TENANT_TRANSITIONS[from].includes(to);
}

/** Whether the subscription state machine allows `from → to`. */
export function canTransitionSubscription(from: SubscriptionStatus, to: SubscriptionStatus): boolean {
  return SUBSCRIPTION_TRANSITIONS[from].includes(to);
}

/**
 * Throws `ILLEGAL_TRANSITION` unless the machine allows `from → to`.
 * @throws TenancyModelError `ILLEGAL_TRANSITION`
 * @example assertTransition('tenant', 'ARCHIVED', 'ACTIVE'); // throws
 */
export function assertTransition(
  machine: 'tenant' | 'subscription',
  from: string,
  to: string,
  id?: string,
): void {
  const table: Readonly<Record<string, readonly string[]>> =
    machine === 'tenant' ? TENANT_TRANSITIONS : SUBSCRIPTION_TRANSITIONS;
  if (!(table[from] ?? []).includes(to)) {
    throw new TenancyModelError('ILLEGAL_TRANSITION', `A ${machine} cannot move from ${from} to ${to}`, {
      details: { machine, from, to, ...(id === undefined ? {} : { id }) },
    });
  }
}
