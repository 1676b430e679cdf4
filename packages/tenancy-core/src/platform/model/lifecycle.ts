import { z } from 'zod';
import { safeText } from '../../kernel/errors.js';
import { parseInput } from '../../kernel/validation.js';
import { TenancyModelError } from './errors.js';
import { type SubscriptionStatus, SubscriptionStatusSchema } from './subscription.js';
import { type TenantStatus, TenantStatusSchema } from './tenant.js';

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
  if (!isState(TENANT_TRANSITIONS, from) || !isState(TENANT_TRANSITIONS, to)) {
    parseInput(
      z.object({ from: TenantStatusSchema, to: TenantStatusSchema }),
      { from, to },
      'tenant transition',
    );
  }
  return TENANT_TRANSITIONS[from].includes(to);
}

/** Whether the subscription state machine allows `from → to`. */
export function canTransitionSubscription(from: SubscriptionStatus, to: SubscriptionStatus): boolean {
  if (!isState(SUBSCRIPTION_TRANSITIONS, from) || !isState(SUBSCRIPTION_TRANSITIONS, to)) {
    parseInput(
      z.object({ from: SubscriptionStatusSchema, to: SubscriptionStatusSchema }),
      { from, to },
      'subscription transition',
    );
  }
  return SUBSCRIPTION_TRANSITIONS[from].includes(to);
}

// An own key of the machine's table (never `toString` or `__proto__` from the prototype).
function isState(table: object, state: unknown): boolean {
  return typeof state === 'string' && Object.hasOwn(table, state);
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
  if (machine !== 'tenant' && machine !== 'subscription') {
    parseInput(z.enum(['tenant', 'subscription']), machine, 'state machine');
  }
  const table: Readonly<Record<string, readonly string[]>> =
    machine === 'tenant' ? TENANT_TRANSITIONS : SUBSCRIPTION_TRANSITIONS;
  if (!(isState(table, from) && (table[from] as readonly string[]).includes(to))) {
    // Coerced for the message: a hostile `from`/`to` (a symbol, a 10 MB string) is reported, not thrown on.
    const [f, t] = [safeText(from, 64), safeText(to, 64)];
    throw new TenancyModelError('ILLEGAL_TRANSITION', `A ${machine} cannot move from ${f} to ${t}`, {
      details: { machine, from: f, to: t, ...(id === undefined ? {} : { id: safeText(id, 128) }) },
    });
  }
}
