import { z } from 'zod';
import { TenantIdSchema } from '../../kernel/identity.js';
import { ConfigMapSchema } from './json.js';
import { PartnerIdSchema } from './partner.js';

/** Tenant lifecycle states: PROVISIONING → ACTIVE ⇄ SUSPENDED → ARCHIVED. */
export const TenantStatusSchema = z.enum(['PROVISIONING', 'ACTIVE', 'SUSPENDED', 'ARCHIVED']);
/** A tenant lifecycle state. */
export type TenantStatus = z.infer<typeof TenantStatusSchema>;

/**
 * How a tenant's data is isolated. `shared`: rows in the shared database, separated by tenant column
 * and row-level security. `dedicated`: its own database, named by `databaseRef`, a reference the host
 * resolves to a connection (never a connection string or a credential).
 */
export const IsolationSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('shared') }),
  z.object({
    mode: z.literal('dedicated'),
    databaseRef: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be a reference name, not a URL'),
  }),
]);
/** A tenant's isolation mode. */
export type Isolation = z.infer<typeof IsolationSchema>;

/** Input to create a tenant. New tenants start in PROVISIONING at version 1. */
export const NewTenantSchema = z.object({
  id: TenantIdSchema,
  name: z.string().trim().min(1).max(200),
  /** The partner that owns the tenant; `null` for tenants the platform sells directly. @default null */
  partnerId: PartnerIdSchema.nullable().default(null),
  /** @default { mode: 'shared' } */
  isolation: IsolationSchema.default({ mode: 'shared' }),
  /** Per-tenant setting overrides (the last layer of settings resolution). @default {} */
  settings: ConfigMapSchema.default({}),
});
/** Input accepted by `createTenant`. */
export type NewTenantInput = z.input<typeof NewTenantSchema>;

/** A stored tenant. `version` increases on every write and is what conditional writes compare. */
export const TenantSchema = NewTenantSchema.extend({
  status: TenantStatusSchema,
  /** Per-tenant maintenance mode: writes refused for all but super admins. */
  maintenance: z.boolean(),
  version: z.number().int().min(1),
  createdAt: z.date(),
  updatedAt: z.date(),
  statusChangedAt: z.date(),
});
/** A stored tenant. */
export type Tenant = z.output<typeof TenantSchema>;

/** A change to a tenant's configuration (not its lifecycle). Absent fields are left as they are. */
export const TenantConfigPatchSchema = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  isolation: IsolationSchema.optional(),
  /** Replaces the whole override map. */
  settings: ConfigMapSchema.optional(),
  maintenance: z.boolean().optional(),
});
/** Input accepted by `updateTenant`. */
export type TenantConfigPatch = z.input<typeof TenantConfigPatchSchema>;
