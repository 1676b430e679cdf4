import { z } from 'zod';
import { ConfigMapSchema } from './json.js';

/** Partner ids share the tenant id alphabet, so they embed safely in keys. */
export const PartnerIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    'must be 1-128 chars of [A-Za-z0-9._-], starting alphanumeric',
  );

/** What kind of partner: a reseller selling the product, or a regional operator running it. */
export const PartnerKindSchema = z.enum(['RESELLER', 'REGIONAL_OPERATOR']);
/** A partner kind. */
export type PartnerKind = z.infer<typeof PartnerKindSchema>;

/** Input to create a partner. */
export const NewPartnerSchema = z.object({
  id: PartnerIdSchema,
  name: z.string().trim().min(1).max(200),
  kind: PartnerKindSchema,
  /** Free-form, non-secret attributes (region, billing reference). @default {} */
  attributes: ConfigMapSchema.default({}),
});
/** Input accepted by `createPartner`. */
export type NewPartnerInput = z.input<typeof NewPartnerSchema>;

/** A partner (reseller or regional operator) that owns tenants. */
export const PartnerSchema = NewPartnerSchema.extend({
  createdAt: z.date(),
});
/** A stored partner. */
export type Partner = z.output<typeof PartnerSchema>;
