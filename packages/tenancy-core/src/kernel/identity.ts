import { z } from 'zod';
import { RoleSchema } from './roles.js';
import { isStorableString } from './validation.js';

/** @internal The pattern of {@link TenantIdSchema}, for hot paths that pre-check before parsing. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A tenant id: 1–128 characters of letters, digits, `.`, `_` and `-`, starting with a letter or digit.
 * The alphabet is deliberately narrow so a tenant id can be embedded in keys, paths and SQL settings
 * without escaping, and can never contain a separator that forges another tenant's namespace.
 */
export const TenantIdSchema = z
  .string()
  .regex(TENANT_ID_PATTERN, 'must be 1-128 chars of [A-Za-z0-9._-], starting alphanumeric');
export type TenantId = z.infer<typeof TenantIdSchema>;

/** Who acts: a person, a service account, or the platform itself. */
export const ActorSchema = z.object({
  /**
   * Stable id of the actor (user id, service account id). No NUL or lone surrogate: stores would
   * refuse the id or keep two different ids as one (`isStorableString`).
   */
  id: z.string().min(1).max(256).refine(isStorableString, 'may not contain NUL or lone surrogates'),
  /** Role names held by the actor in the current tenant. @default [] */
  roles: z.array(RoleSchema).max(64).default([]),
  /** The kind of actor. @default 'user' */
  kind: z.enum(['user', 'service', 'system']).default('user'),
  /** The partner (reseller) the actor belongs to, for partner staff. */
  partnerId: z
    .string()
    .min(1)
    .max(128)
    .refine(isStorableString, 'may not contain NUL or lone surrogates')
    .optional(),
  /** A display name for audit trails; never used for decisions. */
  displayName: z.string().max(256).optional(),
});
export type Actor = z.output<typeof ActorSchema>;
export type ActorInput = z.input<typeof ActorSchema>;

/** What is known while code runs on behalf of a tenant. Immutable once entered. */
export const TenantContextSchema = z.object({
  tenantId: TenantIdSchema,
  actor: ActorSchema,
  /** The support person acting as `actor`, when impersonating. Audit trails name both. */
  impersonator: ActorSchema.optional(),
  /** Correlation id of the request or job. */
  requestId: z.string().min(1).max(256).optional(),
});
export type TenantContext = z.output<typeof TenantContextSchema>;
export type TenantContextInput = z.input<typeof TenantContextSchema>;
