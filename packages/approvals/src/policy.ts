import { RoleSchema, ValidationError } from '@tenantry/core';
import { z } from 'zod';

/** An action name (`asset.delete`) or a pattern ending in `*` (`asset.*`, `*`). */
export const ActionNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/, 'must be dotted lower-case, e.g. asset.delete');

/** An action pattern: an action name, or a prefix ending in `*` (`invoice.*`, `*`). */
export const ActionPatternSchema = z
  .string()
  .regex(
    /^(\*|[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*(\.\*)?)$/,
    'must be an action name or a prefix ending in .* (or * alone)',
  );

/** One approval rule of a tenant: which action, how many approvals, from whom. */
export const ApprovalPolicySchema = z.object({
  /** The action name, or a pattern (`asset.*`, `*`). An exact name wins over patterns, a longer pattern over a shorter one. */
  action: ActionPatternSchema,
  /** Distinct eligible approvers needed. @default 1 */
  approvalsRequired: z.number().int().min(1).max(20).default(1),
  /** Roles whose holders may approve (any one of them suffices; a person holding several counts once). */
  approverRoles: z.array(RoleSchema).min(1).max(32),
  /**
   * Attributes an approver must also have (all of them), as given by the engine's `attributesOf`
   * option, e.g. `{ department: 'finance' }`. @default {}
   */
  approverAttributes: z.record(z.string().min(1).max(64), z.string().max(256)).default({}),
  /** Whether the maker may also approve their own request. @default false */
  allowMakerApproval: z.boolean().default(false),
  /** Time to live of a request, in milliseconds. @default 604800000 (7 days) */
  ttlMs: z
    .number()
    .int()
    .min(1000)
    .max(366 * 86_400_000)
    .default(7 * 86_400_000),
  /** `auto`: the action runs as soon as the last approval lands; `manual`: it runs on `execute()`. @default 'auto' */
  execution: z.enum(['auto', 'manual']).default('auto'),
  /** Whether a FAILED execution may be retried by an eligible person without new approvals. @default false */
  retryFailed: z.boolean().default(false),
});
/** A validated policy. */
export type ApprovalPolicy = z.output<typeof ApprovalPolicySchema>;
/** A policy as written by a tenant admin. */
export type ApprovalPolicyInput = z.input<typeof ApprovalPolicySchema>;

/** Break-glass: approving alone. Off by default; each use needs a reason and is audited as its own event. */
export const BypassSettingsSchema = z.object({
  /** @default false */
  enabled: z.boolean().default(false),
  /** Roles that may bypass. @default ['SUPER_ADMIN'] */
  roles: z.array(RoleSchema).min(1).max(16).default(['SUPER_ADMIN']),
  /** Whether the maker may bypass their own request. @default false */
  allowMaker: z.boolean().default(false),
});
/** Validated bypass settings. */
export type BypassSettings = z.output<typeof BypassSettingsSchema>;

/** A tenant's whole approval configuration, replaced as a unit and versioned. */
export const PolicySetInputSchema = z.object({
  policies: z
    .array(ApprovalPolicySchema)
    .max(500)
    .refine((ps) => new Set(ps.map((p) => p.action)).size === ps.length, 'each action pattern at most once'),
  bypass: BypassSettingsSchema.default({ enabled: false, roles: ['SUPER_ADMIN'], allowMaker: false }),
});
/** A policy set as written by a tenant admin. */
export type PolicySetInput = z.input<typeof PolicySetInputSchema>;

/** A stored version of a tenant's policy set. Versions start at 1; version 0 is "no policies". */
export interface PolicySet {
  readonly tenantId: string;
  readonly version: number;
  readonly policies: readonly ApprovalPolicy[];
  readonly bypass: BypassSettings;
  readonly createdAt: Date;
  readonly createdBy: string;
}

/** The policy of `action` in `policies`: the exact name first, then the longest matching pattern. */
export function matchPolicy(policies: readonly ApprovalPolicy[], action: string): ApprovalPolicy | undefined {
  if (!Array.isArray(policies) || typeof action !== 'string') {
    throw new ValidationError('policy match', [
      {
        path: [Array.isArray(policies) ? 'action' : 'policies'],
        message: Array.isArray(policies) ? 'must be a string' : 'must be an array of policies',
      },
    ]);
  }
  let best: ApprovalPolicy | undefined;
  let bestLength = -1;
  for (const [i, p] of policies.entries()) {
    if (typeof p?.action !== 'string') {
      throw new ValidationError('policy match', [
        { path: ['policies', i, 'action'], message: 'must be a string' },
      ]);
    }
    if (p.action === action) return p;
    if (!p.action.endsWith('*')) continue;
    const prefix = p.action.slice(0, -1);
    if (action.startsWith(prefix) && prefix.length > bestLength) {
      best = p;
      bestLength = prefix.length;
    }
  }
  return best;
}
