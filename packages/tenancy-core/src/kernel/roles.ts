import { z } from 'zod';
import { TenantryError } from './errors.js';
import { ValidationError, parseInput } from './validation.js';

/** The built-in roles, from most to least privileged. Hosts may add their own with {@link defineAccessPolicy}. */
export const Roles = {
  SUPER_ADMIN: 'SUPER_ADMIN',
  PARTNER_ADMIN: 'PARTNER_ADMIN',
  TENANT_ADMIN: 'TENANT_ADMIN',
  MANAGER: 'MANAGER',
  OPERATOR: 'OPERATOR',
  USER: 'USER',
} as const;

/** A built-in role name. */
export type BuiltInRole = (typeof Roles)[keyof typeof Roles];

/** Role names: built-in or host-defined, UPPER_SNAKE. */
export const RoleSchema = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be UPPER_SNAKE, at most 64 characters');

/** Permission names such as `invoice:create`, `tenant:suspend`, or `invoice:*` for every action on a resource. */
export const PermissionSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]*(:[a-z0-9*][a-z0-9-]*)*$/, 'must look like resource:action');

/**
 * The API segments of a SaaS backend, each a set of roles allowed in:
 * system management (the operator of the SaaS), back office (partners and tenant administration),
 * operations (the tenant's daily work).
 */
export const DEFAULT_SEGMENTS = {
  system: [Roles.SUPER_ADMIN],
  backOffice: [Roles.SUPER_ADMIN, Roles.PARTNER_ADMIN, Roles.TENANT_ADMIN, Roles.MANAGER],
  operations: [Roles.TENANT_ADMIN, Roles.MANAGER, Roles.OPERATOR, Roles.USER],
} as const satisfies Record<string, readonly string[]>;

/** Input accepted by {@link defineAccessPolicy}. */
export const AccessPolicyConfigSchema = z.object({
  /** Permissions granted to each role. `*` grants everything; `invoice:*` every action on invoices. */
  grants: z.record(RoleSchema, z.array(z.union([PermissionSchema, z.literal('*')]))),
  /** Roles that inherit every grant of other roles, e.g. `{ TENANT_ADMIN: ['MANAGER'] }`. */
  inherits: z.record(RoleSchema, z.array(RoleSchema)).default({}),
  /** Named API segments as role sets. @default DEFAULT_SEGMENTS */
  segments: z.record(z.string().min(1), z.array(RoleSchema)).optional(),
});
export type AccessPolicyConfig = z.input<typeof AccessPolicyConfigSchema>;

/** Something that holds roles: an actor, or a tenant context's actor. */
export interface HasRoles {
  readonly roles: readonly string[];
}

/** A compiled, immutable role → permission policy. */
export interface AccessPolicy {
  /** Whether any of the holder's roles grants `permission`. */
  can(holder: HasRoles, permission: string): boolean;
  /**
   * Throws `PERMISSION_DENIED` unless the holder may do `permission`.
   * @throws TenantryError `PERMISSION_DENIED`
   */
  assert(holder: HasRoles, permission: string): void;
  /** Whether the holder has a role in the named segment. */
  inSegment(holder: HasRoles, segment: string): boolean;
  /** The role set of a segment (unknown segment: empty). */
  segment(segment: string): readonly string[];
}

/**
 * Compile an access policy. Inheritance cycles are rejected; unknown roles simply grant nothing.
 * @throws ValidationError `VALIDATION_FAILED` on malformed input or an inheritance cycle
 * @example
 * const policy = defineAccessPolicy({ grants: { MANAGER: ['invoice:*'], USER: ['invoice:read'] }, inherits: { TENANT_ADMIN: ['MANAGER'] } });
 * policy.assert(ctx.actor, 'invoice:void');
 */
export function defineAccessPolicy(config: AccessPolicyConfig): AccessPolicy {
  const parsed = parseInput(AccessPolicyConfigSchema, config, 'access policy');
  const effective = new Map<string, Set<string>>();
  const resolve = (role: string, path: string[]): Set<string> => {
    const known = effective.get(role);
    if (known) return known;
    if (path.includes(role)) {
      throw new ValidationError('access policy', [
        { path: ['inherits', role], message: `role inheritance cycle: ${[...path, role].join(' -> ')}` },
      ]);
    }
    const perms = new Set(parsed.grants[role] ?? []);
    for (const parent of parsed.inherits[role] ?? []) {
      for (const p of resolve(parent, [...path, role])) perms.add(p);
    }
    effective.set(role, perms);
    return perms;
  };
  for (const role of new Set([...Object.keys(parsed.grants), ...Object.keys(parsed.inherits)]))
    resolve(role, []);
  const segments: Record<string, readonly string[]> = parsed.segments ?? DEFAULT_SEGMENTS;

  const grants = (perms: Set<string>, permission: string): boolean => {
    if (perms.has('*') || perms.has(permission)) return true;
    const resource = permission.split(':')[0];
    return perms.has(`${resource}:*`);
  };

  return Object.freeze({
    can(holder: HasRoles, permission: string): boolean {
      // Fail closed on anything that is not a holder with a role list, or not a permission string.
      if (typeof permission !== 'string' || !Array.isArray((holder as HasRoles | undefined)?.roles))
        return false;
      return holder.roles.some((r) => {
        const perms = effective.get(r);
        return perms !== undefined && grants(perms, permission);
      });
    },
    assert(holder: HasRoles, permission: string): void {
      if (!this.can(holder, permission)) {
        const named = typeof permission === 'string' ? permission : '(not a permission)';
        throw new TenantryError('PERMISSION_DENIED', `Missing permission ${named}`, {
          details: { permission: named },
        });
      }
    },
    inSegment(holder: HasRoles, segment: string): boolean {
      if (!Array.isArray((holder as HasRoles | undefined)?.roles)) return false;
      const allowed = Object.hasOwn(segments, segment) ? (segments[segment] ?? []) : [];
      return holder.roles.some((r) => allowed.includes(r));
    },
    segment(segment: string): readonly string[] {
      return Object.hasOwn(segments, segment) ? (segments[segment] ?? []) : [];
    },
  });
}
