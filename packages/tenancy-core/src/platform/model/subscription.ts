import { z } from 'zod';
import { TenantIdSchema } from '../../kernel/identity.js';
import { PlanIdSchema } from './plan.js';

/** Subscription states: TRIAL → ACTIVE → PAST_DUE → CANCELED (PAST_DUE → ACTIVE once paid). */
export const SubscriptionStatusSchema = z.enum(['TRIAL', 'ACTIVE', 'PAST_DUE', 'CANCELED']);
/** A subscription state. */
export type SubscriptionStatus = z.infer<typeof SubscriptionStatusSchema>;

/** Input to start a subscription. A tenant has at most one subscription that is not CANCELED. */
export const NewSubscriptionSchema = z.object({
  /** Generated (UUIDv7) when absent. */
  id: z.string().min(1).max(128).optional(),
  tenantId: TenantIdSchema,
  planId: PlanIdSchema,
  /** @default 'TRIAL' */
  status: z.enum(['TRIAL', 'ACTIVE']).default('TRIAL'),
  /** End of the trial or of the paid period, informational for the host's billing. */
  periodEndsAt: z.date().nullable().default(null),
});
/** Input accepted by `startSubscription`. */
export type NewSubscriptionInput = z.input<typeof NewSubscriptionSchema>;

/** A stored subscription. */
export const SubscriptionSchema = NewSubscriptionSchema.extend({
  id: z.string().min(1).max(128),
  status: SubscriptionStatusSchema,
  version: z.number().int().min(1),
  createdAt: z.date(),
  updatedAt: z.date(),
});
/** A stored subscription. */
export type Subscription = z.output<typeof SubscriptionSchema>;
