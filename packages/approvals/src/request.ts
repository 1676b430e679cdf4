import { JsonValueSchema, type JsonValue, ValidationError, isStorableString } from '@tenantry/core';
import { z } from 'zod';
import { ActionNameSchema, type ApprovalPolicy, type BypassSettings } from './policy.js';

/** Where a request stands on approval. PENDING → APPROVED, or PENDING → REJECTED | EXPIRED | CANCELLED. */
export type ApprovalState = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED';
/** Where an approved request stands on execution. NONE → RUNNING (claimed, non-transactional stores) → EXECUTED | FAILED. */
export type ExecutionState = 'NONE' | 'RUNNING' | 'EXECUTED' | 'FAILED';
/** The one-word status shown to people: the approval state, or once approved, EXECUTED / FAILED. */
export type RequestStatus =
  | 'PENDING'
  | 'APPROVED'
  | 'EXECUTED'
  | 'FAILED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'CANCELLED';

/** The resource a request is about, e.g. `{ type: 'asset', id: '42' }`. */
export const ResourceRefSchema = z.object({
  type: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'must be a lower-case slug'),
  /** No NUL or lone surrogate: PostgreSQL refuses NUL, and drivers would store two ids differing in a lone surrogate as one. */
  id: z.string().min(1).max(256).refine(isStorableString, 'may not contain NUL or lone surrogates'),
});
/** A resource reference. */
export type ResourceRef = z.output<typeof ResourceRefSchema>;

/** Input of `request()`. */
export const CreateRequestSchema = z.object({
  /** The action, e.g. `asset.delete`. A handler must be registered for it. */
  action: ActionNameSchema,
  resource: ResourceRefSchema,
  /** Why the maker asks; shown to approvers. Not audited in full (only its length). */
  justification: z
    .string()
    .trim()
    .min(1)
    .max(2000)
    .refine(isStorableString, 'may not contain NUL or lone surrogates'),
  /** What the handler needs to run the action (JSON, at most 64 KiB). @default {} */
  payload: JsonValueSchema.default({}).refine(
    (v) => JSON.stringify(v).length <= 65_536,
    'must serialise to at most 64 KiB',
  ),
  /** The tenant; defaults to the one in context (T1). */
  tenantId: z.string().optional(),
});
/** Input of `request()`. */
export type CreateRequestInput = z.input<typeof CreateRequestSchema>;

/** Input of `approve()`, `reject()`, `cancel()`. */
export const DecisionInputSchema = z.object({
  requestId: z.uuid(),
  comment: z
    .string()
    .trim()
    .max(2000)
    .refine(isStorableString, 'may not contain NUL or lone surrogates')
    .optional(),
  tenantId: z.string().optional(),
});
/** Input of `approve()`, `reject()`, `cancel()`. */
export type DecisionInput = z.input<typeof DecisionInputSchema>;

/** Input of `bypass()`: the reason is required. */
export const BypassInputSchema = z.object({
  requestId: z.uuid(),
  reason: z
    .string()
    .trim()
    .min(3)
    .max(2000)
    .refine(isStorableString, 'may not contain NUL or lone surrogates'),
  tenantId: z.string().optional(),
});
/** Input of `bypass()`. */
export type BypassInput = z.input<typeof BypassInputSchema>;

/** Input of `execute()` (manual execution, or retry of a FAILED execution). */
export const ExecuteInputSchema = z.object({
  requestId: z.uuid(),
  tenantId: z.string().optional(),
});
/** Input of `execute()`. */
export type ExecuteInput = z.input<typeof ExecuteInputSchema>;

/** What happened to a request, in order. Decisions carry the decider's roles at that moment. */
export interface HistoryEntry {
  readonly type:
    | 'requested'
    | 'approved'
    | 'rejected'
    | 'bypassed'
    | 'cancelled'
    | 'expired'
    | 'executed'
    | 'failed'
    | 'executed_without_policy';
  readonly at: string;
  readonly actorId?: string;
  readonly roles?: readonly string[];
  readonly impersonatorId?: string;
  readonly comment?: string;
  /** For `failed`: the error code (never the message). */
  readonly errorCode?: string;
}

/**
 * The people who decided `request` (approved, rejected or bypassed it): each decision's actor and,
 * when the decision was made while impersonating, the impersonator too. A person who decided while
 * impersonating someone has decided: they count once (P1), whoever they act as next.
 */
export function decidersOf(request: Pick<ApprovalRequest, 'history'>): string[] {
  // A plain loop: this runs on every write of a transition (no intermediate arrays, no Set).
  const ids: string[] = [];
  for (const h of request.history) {
    if (h.type !== 'approved' && h.type !== 'rejected' && h.type !== 'bypassed') continue;
    if (h.actorId && !ids.includes(h.actorId)) ids.push(h.actorId);
    if (h.impersonatorId && !ids.includes(h.impersonatorId)) ids.push(h.impersonatorId);
  }
  return ids;
}

/** The rules a request was created under: a snapshot, so later policy changes do not alter it. */
export interface PolicySnapshot {
  /** The policy set version; 0 when no policy applied (the action ran at once). */
  readonly version: number;
  readonly policy: ApprovalPolicy | null;
  readonly bypass: BypassSettings;
}

/** A request as stored. `version` increases by one on every write (the conditional writes compare it). */
export interface ApprovalRequest {
  readonly id: string;
  readonly tenantId: string;
  readonly action: string;
  readonly resource: ResourceRef;
  readonly makerId: string;
  readonly makerRoles: readonly string[];
  readonly impersonatorId?: string;
  readonly justification: string;
  readonly payload: JsonValue;
  readonly rules: PolicySnapshot;
  readonly approvalState: ApprovalState;
  readonly executionState: ExecutionState;
  /** Distinct people who approved (bypass included). */
  readonly approvals: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The stored deadline (ISO); the request is EXPIRED from then on while PENDING. */
  readonly expiresAt: string;
  readonly history: readonly HistoryEntry[];
  /** Execution attempts so far. */
  readonly attempts: number;
  /** Error code of the last failed execution. */
  readonly lastErrorCode?: string;
  /** Execution claim of non-transactional stores: who holds it and until when (ISO). */
  readonly lease?: { readonly token: string; readonly until: string };
  /** Whether the resource is still soft-locked by this request. */
  readonly locked: boolean;
  /** Whether an unlock hook still has to run (non-transactional stores; the sweeper finishes it). */
  readonly unlockPending: boolean;
  readonly version: number;
}

/** A request as returned to callers: the stored one with expiry applied and a one-word `status`. */
export interface ApprovalRequestView extends ApprovalRequest {
  readonly status: RequestStatus;
}

// Cheap boundary checks (no zod on this hot path): a stored request by shape, and a valid instant.
function checkRequestAndNow(request: unknown, now: unknown): void {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new ValidationError('approval request', [
      { path: [], message: 'must be a stored approval request' },
    ]);
  }
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new ValidationError('now', [{ path: [], message: 'must be a valid Date' }]);
  }
}

/** Expiry is a fact of the stored deadline (P6): a PENDING request past it reads as EXPIRED. */
export function isExpired(request: ApprovalRequest, now: Date): boolean {
  checkRequestAndNow(request, now);
  return request.approvalState === 'PENDING' && now.getTime() >= Date.parse(request.expiresAt);
}

/** The view of a stored request at `now`. */
export function viewOf(request: ApprovalRequest, now: Date): ApprovalRequestView {
  const approvalState: ApprovalState = isExpired(request, now) ? 'EXPIRED' : request.approvalState;
  let status: RequestStatus = approvalState;
  if (
    approvalState === 'APPROVED' &&
    (request.executionState === 'EXECUTED' || request.executionState === 'FAILED')
  )
    status = request.executionState;
  return { ...request, approvalState, status };
}

/** Whether a request's state is final (nothing may change it, except finishing its unlock). */
export function isFinal(request: ApprovalRequest): boolean {
  if (request.approvalState === 'APPROVED') {
    if (request.executionState === 'EXECUTED') return true;
    return request.executionState === 'FAILED' && request.rules.policy?.retryFailed !== true;
  }
  return request.approvalState !== 'PENDING';
}
