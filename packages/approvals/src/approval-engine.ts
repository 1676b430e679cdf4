import type { Actor, AuditPort, Clock, Logger } from '@tenantry/core';
import { z } from 'zod';
import type { ApprovalStore } from './approval-store.js';
import type { ActionHandler, ResourceHooks } from './handlers.js';
import type { PolicySet, PolicySetInput } from './policy.js';
import {
  type ApprovalRequestView,
  type BypassInput,
  type CreateRequestInput,
  type DecisionInput,
  type ExecuteInput,
  ResourceRefSchema,
} from './request.js';

/** Options of {@link createApprovalEngine}. */
export interface ApprovalEngineOptions {
  /** Where requests and policies live: `MemoryApprovalStore`, `PostgresApprovalStore`, `MongoApprovalStore`. */
  store: ApprovalStore;
  /** Every transition is recorded here (wire `@tenantry/audit`'s port, or your own). */
  audit: AuditPort;
  /** @default systemClock */
  clock?: Clock;
  /** @default noopLogger */
  logger?: Logger;
  /** Attributes of an actor, for policies with `approverAttributes`. @default () => ({}) */
  attributesOf?: (actor: Actor) => Readonly<Record<string, string>>;
  /** Execution lease on stores without shared transactions, in ms. @default 60000 */
  leaseMs?: number;
  /** Attempts when a request keeps changing under concurrent writers. @default 50 */
  maxRetries?: number;
  /**
   * Tenants whose latest policy set `request()` keeps in memory (least recently used first out; 0 turns
   * the cache off). Used only on stores that declare `capabilities.policyVersionCheck`: their insert
   * refuses a request built from a policy set that is no longer the latest, and the engine then reads
   * the policies again, so a policy change made by any process applies to the next request. A request
   * made in the caller's transaction (`{ transaction }`) reads the policies every time (the caller's
   * snapshot may be older than the latest change).
   * @default 1000
   */
  policyCacheSize?: number;
}

/** Options of calls that can join the caller's transaction (PostgreSQL: a `PgQueryable`, e.g. a checked-out client inside BEGIN). */
export interface TransactionOption {
  /** The caller's transaction: the request row, soft lock and decision commit or roll back with it. */
  transaction?: unknown;
}

/** Query of {@link ApprovalEngine.list}. */
export const ListQuerySchema = z.object({
  tenantId: z.string().optional(),
  resource: ResourceRefSchema.optional(),
  makerId: z.string().min(1).max(256).optional(),
  /** Requests this person approved, rejected or bypassed, as themselves or while impersonating someone. */
  approverId: z.string().min(1).max(256).optional(),
  status: z
    .enum(['PENDING', 'APPROVED', 'EXECUTED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED'])
    .optional(),
  /** @default 50 */
  limit: z.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});
/** Query of {@link ApprovalEngine.list}. */
export type ListQuery = z.input<typeof ListQuerySchema>;
/** Query of {@link ApprovalEngine.inbox}. */
export const InboxQuerySchema = ListQuerySchema.pick({ tenantId: true, limit: true, cursor: true });
/** Query of {@link ApprovalEngine.inbox}. */
export type InboxQuery = z.input<typeof InboxQuerySchema>;

/** One page of requests, newest first. */
export interface RequestPage {
  readonly items: readonly ApprovalRequestView[];
  /** Pass it as `cursor` for the next page; `null` when there is none. */
  readonly nextCursor: string | null;
}

/** Input of {@link ApprovalEngine.setPolicies}. */
export type SetPoliciesInput = PolicySetInput & {
  /** The version the admin edited; a concurrent change makes the call fail with `APPROVAL_POLICY_CONFLICT`. */
  expectedVersion?: number;
  tenantId?: string;
};

/** The four-eyes approval engine. Every method acts for the tenant in context (T1). */
export interface ApprovalEngine {
  /** Register the code that executes an approved `action`. */
  registerAction(action: string, handler: ActionHandler): void;
  /** Register the soft-lock hooks of a resource type. */
  registerResource(type: string, hooks: ResourceHooks): void;
  /**
   * Replace the tenant's policies with a new version (tenant admins only; audited). Pending requests
   * keep the version they were created under.
   * @throws TenantryError `PERMISSION_DENIED`; ApprovalError `APPROVAL_POLICY_CONFLICT`
   */
  setPolicies(input: SetPoliciesInput): Promise<PolicySet>;
  /** The tenant's current policies (version 0 and no policies when none were set). */
  getPolicies(options?: { tenantId?: string }): Promise<PolicySet>;
  /**
   * Ask for an action: creates a PENDING request and soft-locks the resource in one atomic step (on
   * PostgreSQL in `options.transaction` when given). When no policy applies, the action runs at once.
   * @throws ApprovalError `APPROVAL_DUPLICATE_PENDING` (details.pendingRequestId), `APPROVAL_HANDLER_MISSING`
   */
  request(input: CreateRequestInput, options?: TransactionOption): Promise<ApprovalRequestView>;
  /**
   * Approve as the actor in context; the Nth distinct eligible approval approves the request and, with
   * `execution: 'auto'`, executes it once.
   * @throws ApprovalError `APPROVAL_SELF_APPROVAL`, `APPROVAL_ALREADY_DECIDED`, `APPROVAL_NOT_ELIGIBLE`, `APPROVAL_EXPIRED`, `APPROVAL_INVALID_STATE`, `APPROVAL_NOT_FOUND`
   */
  approve(input: DecisionInput, options?: TransactionOption): Promise<ApprovalRequestView>;
  /** Reject (one eligible rejection suffices) and release the soft lock. */
  reject(input: DecisionInput, options?: TransactionOption): Promise<ApprovalRequestView>;
  /** Cancel, by the maker, and release the soft lock. @throws ApprovalError `APPROVAL_NOT_MAKER` */
  cancel(input: DecisionInput, options?: TransactionOption): Promise<ApprovalRequestView>;
  /** Break-glass: approve alone, with a reason, when the tenant enabled it; audited as `approval.bypassed`. */
  bypass(input: BypassInput, options?: TransactionOption): Promise<ApprovalRequestView>;
  /**
   * Run an approved request (manual execution), retry a FAILED one when the policy allows it, or
   * reclaim an execution whose lease expired; by the maker or an eligible approver.
   * @throws ApprovalError `APPROVAL_RETRY_NOT_ALLOWED`, `APPROVAL_EXECUTION_IN_PROGRESS`, `APPROVAL_INVALID_STATE`
   */
  execute(input: ExecuteInput, options?: TransactionOption): Promise<ApprovalRequestView>;
  /** One request, with expiry applied. @throws ApprovalError `APPROVAL_NOT_FOUND` */
  get(input: { requestId: string; tenantId?: string }): Promise<ApprovalRequestView>;
  /** History of the tenant, newest first, by resource, maker, approver or status. */
  list(query?: ListQuery): Promise<RequestPage>;
  /** "My inbox": pending requests the actor in context may still decide. */
  inbox(query?: InboxQuery): Promise<RequestPage>;
  /**
   * Write down expiries and release the soft locks of expired requests (and finish pending unlocks).
   * Safe in several processes at once (each transition is a conditional write; a sweeper that loses the
   * race skips the request). Without a tenant in context, inside `runAsSystem`, it sweeps every tenant.
   * `limit` (default 500) bounds the due requests read per call; `released` counts the due requests this
   * call processed, including ones a concurrent sweeper had just released.
   * @example await runAsSystem({ actor, reason: 'approvals sweep' }, audit, () => engine.sweep());
   */
  sweep(options?: { tenantId?: string; limit?: number }): Promise<{ released: number }>;
}
