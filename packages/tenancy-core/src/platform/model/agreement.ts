import { z } from 'zod';
import { TenantIdSchema } from '../../kernel/identity.js';

/** Which document was accepted. @default 'terms-of-service' */
export const AgreementDocumentSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a lower-case slug')
  .default('terms-of-service');

/** Input to record that a user accepted a version of a document (terms of service by default). */
export const AgreementInputSchema = z.object({
  tenantId: TenantIdSchema,
  userId: z.string().min(1).max(256),
  document: AgreementDocumentSchema,
  /** The version accepted, as the host names it (e.g. `2026-01`). */
  version: z.string().min(1).max(64),
  /** When it was accepted; the clock's now if absent. */
  acceptedAt: z.date().optional(),
});
/** Input accepted by `acceptTerms` / `recordAgreement`. */
export type AgreementInput = z.input<typeof AgreementInputSchema>;

/** A recorded acceptance. */
export const AgreementSchema = AgreementInputSchema.extend({ acceptedAt: z.date() });
/** A recorded acceptance. */
export type Agreement = z.output<typeof AgreementSchema>;
