import { z } from 'zod';
import { ConfigKeySchema, ConfigMapSchema } from './json.js';

/** Plan ids: lower-case slugs such as `pro-2026`. */
export const PlanIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a lower-case slug');

/** The window a quota counts over. `total` never resets. */
export const PlanQuotaWindowSchema = z.enum(['minute', 'hour', 'day', 'month', 'total']);
/** A quota window. */
export type PlanQuotaWindow = z.infer<typeof PlanQuotaWindowSchema>;

/** One quota of a plan, e.g. 1,000 emails per day. */
export const PlanQuotaSchema = z.object({
  limit: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  window: PlanQuotaWindowSchema,
});
/** A quota limit. */
export type PlanQuota = z.infer<typeof PlanQuotaSchema>;

/** Input to create or replace a plan: quotas and features are validated JSON. */
export const PlanInputSchema = z.object({
  id: PlanIdSchema,
  name: z.string().trim().min(1).max(200),
  /** Quotas by name, e.g. `{ 'emails.per-day': { limit: 1000, window: 'day' } }`. @default {} */
  quotas: z.record(ConfigKeySchema, PlanQuotaSchema).default({}),
  /** Features and their values, e.g. `{ 'exports.csv': true, 'users.max': 25 }`. @default {} */
  features: ConfigMapSchema.default({}),
});
/** Input accepted by `putPlan`. */
export type PlanInput = z.input<typeof PlanInputSchema>;

/** A stored plan. `version` increases on every replacement. */
export const PlanSchema = PlanInputSchema.extend({
  version: z.number().int().min(1),
  updatedAt: z.date(),
});
/** A stored plan. */
export type Plan = z.output<typeof PlanSchema>;
