import type { Actor } from '@tenantry/core';
import { ApprovalError } from './errors.js';
import type { ApprovalPolicy } from './policy.js';
import { type ApprovalRequest, type HistoryEntry, decidersOf, isExpired } from './request.js';

/** Who decides: the actor in context, and the support person impersonating them, if any. */
export interface Decider {
  readonly actor: Actor;
  readonly impersonator?: Actor;
  /** Attributes of the actor for `approverAttributes` (from the engine's `attributesOf`). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** A history entry for a decision by `who` at `at`. */
export function entry(
  type: HistoryEntry['type'],
  who: Decider | undefined,
  at: Date,
  extra: Partial<HistoryEntry> = {},
): HistoryEntry {
  return {
    type,
    at: at.toISOString(),
    ...(who ? { actorId: who.actor.id, roles: [...who.actor.roles] } : {}),
    ...(who?.impersonator ? { impersonatorId: who.impersonator.id } : {}),
    ...extra,
  };
}

/** The next stored version of `request` with `changes`, one history entry more, stamped at `at`. */
export function advance(
  request: ApprovalRequest,
  changes: Partial<ApprovalRequest>,
  at: Date,
  ...history: HistoryEntry[]
): ApprovalRequest {
  return {
    ...request,
    ...changes,
    history: [...request.history, ...history],
    updatedAt: at.toISOString(),
    version: request.version + 1,
  };
}

/** Whether the maker (or the person impersonating the maker) is among the people behind this decision. */
function isMaker(request: ApprovalRequest, who: Decider): boolean {
  const people = new Set([who.actor.id, ...(who.impersonator ? [who.impersonator.id] : [])]);
  return (
    people.has(request.makerId) ||
    (request.impersonatorId !== undefined && people.has(request.impersonatorId))
  );
}

/** Whether `who` holds an eligible role and the required attributes (P1: by role, per policy). */
export function isEligible(policy: ApprovalPolicy, who: Decider): boolean {
  if (!who.actor.roles.some((r) => policy.approverRoles.includes(r))) return false;
  return Object.entries(policy.approverAttributes).every(([k, v]) => who.attributes[k] === v);
}

/** The error for a transition out of a state that is not PENDING (expiry is handled by the caller). */
export function notPending(request: ApprovalRequest): ApprovalError {
  return new ApprovalError(
    request.approvalState === 'EXPIRED' ? 'APPROVAL_EXPIRED' : 'APPROVAL_INVALID_STATE',
    `Request ${request.id} is ${request.approvalState}, not PENDING`,
    {
      details: {
        requestId: request.id,
        approvalState: request.approvalState,
        executionState: request.executionState,
      },
    },
  );
}

/** Checks shared by approve and reject: pending, not the maker, not yet decided, eligible. */
function checkDecider(
  request: ApprovalRequest,
  who: Decider,
  now: Date,
  allowMaker: boolean,
): ApprovalPolicy {
  if (request.approvalState !== 'PENDING' || isExpired(request, now)) throw notPending(request);
  const policy = request.rules.policy;
  if (!policy) throw notPending(request);
  if (isMaker(request, who) && !(allowMaker && policy.allowMakerApproval)) {
    throw new ApprovalError('APPROVAL_SELF_APPROVAL', `The maker of request ${request.id} cannot decide it`, {
      details: { requestId: request.id },
    });
  }
  // The people behind this decision (the actor, and the impersonator if any) against the people behind
  // every earlier one: one person approving as themselves and again while impersonating someone (or
  // the other way round) would otherwise count twice (P1).
  const deciders = decidersOf(request);
  const decided =
    deciders.includes(who.actor.id) ||
    (who.impersonator !== undefined && deciders.includes(who.impersonator.id));
  if (decided || request.approvals.includes(who.actor.id)) {
    throw new ApprovalError(
      'APPROVAL_ALREADY_DECIDED',
      `Request ${request.id} was already decided by this person`,
      {
        details: { requestId: request.id },
      },
    );
  }
  if (!isEligible(policy, who)) {
    throw new ApprovalError('APPROVAL_NOT_ELIGIBLE', `The actor may not decide request ${request.id}`, {
      details: { requestId: request.id, approverRoles: policy.approverRoles },
    });
  }
  return policy;
}

/** PENDING + one approval: still PENDING, or APPROVED once N distinct eligible people approved. */
export function approveStep(
  request: ApprovalRequest,
  who: Decider,
  now: Date,
  comment?: string,
): ApprovalRequest {
  const policy = checkDecider(request, who, now, true);
  const approvals = [...request.approvals, who.actor.id];
  const reached = approvals.length >= policy.approvalsRequired;
  return advance(
    request,
    { approvals, approvalState: reached ? 'APPROVED' : 'PENDING' },
    now,
    entry('approved', who, now, comment ? { comment } : {}),
  );
}

/** PENDING → REJECTED: one eligible rejection suffices. The maker cancels instead. */
export function rejectStep(
  request: ApprovalRequest,
  who: Decider,
  now: Date,
  comment?: string,
): ApprovalRequest {
  checkDecider(request, who, now, false);
  return advance(
    request,
    { approvalState: 'REJECTED' },
    now,
    entry('rejected', who, now, comment ? { comment } : {}),
  );
}

/** PENDING → CANCELLED, by the maker only. */
export function cancelStep(
  request: ApprovalRequest,
  who: Decider,
  now: Date,
  comment?: string,
): ApprovalRequest {
  if (request.approvalState !== 'PENDING' || isExpired(request, now)) throw notPending(request);
  if (who.actor.id !== request.makerId) {
    throw new ApprovalError('APPROVAL_NOT_MAKER', `Only the maker may cancel request ${request.id}`, {
      details: { requestId: request.id },
    });
  }
  return advance(
    request,
    { approvalState: 'CANCELLED' },
    now,
    entry('cancelled', who, now, comment ? { comment } : {}),
  );
}

/** PENDING → APPROVED by one person with a bypass role, when the tenant enabled bypass; the reason is kept. */
export function bypassStep(
  request: ApprovalRequest,
  who: Decider,
  now: Date,
  reason: string,
): ApprovalRequest {
  if (request.approvalState !== 'PENDING' || isExpired(request, now)) throw notPending(request);
  const bypass = request.rules.bypass;
  if (!bypass.enabled) {
    throw new ApprovalError('APPROVAL_BYPASS_DISABLED', `Bypass is disabled for request ${request.id}`, {
      details: { requestId: request.id },
    });
  }
  if (isMaker(request, who) && !bypass.allowMaker) {
    throw new ApprovalError('APPROVAL_SELF_APPROVAL', `The maker of request ${request.id} cannot bypass it`, {
      details: { requestId: request.id },
    });
  }
  if (!who.actor.roles.some((r) => bypass.roles.includes(r))) {
    throw new ApprovalError('APPROVAL_NOT_ELIGIBLE', `The actor may not bypass request ${request.id}`, {
      details: { requestId: request.id },
    });
  }
  const approvals = request.approvals.includes(who.actor.id)
    ? request.approvals
    : [...request.approvals, who.actor.id];
  return advance(
    request,
    { approvals, approvalState: 'APPROVED' },
    now,
    entry('bypassed', who, now, { comment: reason }),
  );
}

/** PENDING past its deadline → EXPIRED (the deadline already made it so; this writes it down). */
export function expireStep(request: ApprovalRequest, now: Date): ApprovalRequest {
  return advance(request, { approvalState: 'EXPIRED' }, now, entry('expired', undefined, now));
}

/**
 * Whether `who` may start execution (manual policy, retry of a failed execution, or reclaiming an
 * expired lease): the maker or an eligible approver.
 */
export function checkExecutor(request: ApprovalRequest, who: Decider, now: Date): void {
  if (request.approvalState !== 'APPROVED') throw notPending(request);
  const policy = request.rules.policy;
  const allowed =
    policy === null ? who.actor.id === request.makerId : isMaker(request, who) || isEligible(policy, who);
  if (!allowed) {
    throw new ApprovalError('APPROVAL_NOT_ELIGIBLE', `The actor may not execute request ${request.id}`, {
      details: { requestId: request.id },
    });
  }
  switch (request.executionState) {
    case 'NONE':
      return;
    case 'FAILED':
      if (policy?.retryFailed) return;
      throw new ApprovalError(
        'APPROVAL_RETRY_NOT_ALLOWED',
        `The policy of request ${request.id} does not allow a retry`,
        {
          details: { requestId: request.id, lastErrorCode: request.lastErrorCode },
        },
      );
    case 'RUNNING':
      if (request.lease && Date.parse(request.lease.until) <= now.getTime()) return;
      throw new ApprovalError('APPROVAL_EXECUTION_IN_PROGRESS', `Request ${request.id} is being executed`, {
        details: { requestId: request.id, leaseUntil: request.lease?.until },
      });
    default:
      throw new ApprovalError('APPROVAL_INVALID_STATE', `Request ${request.id} was already executed`, {
        details: { requestId: request.id, executionState: request.executionState },
      });
  }
}
