import {
  type AuditPort,
  type AuditPortEvent,
  type Clock,
  type Logger,
  isTenantryError,
  uuidv7,
} from '@tenantry/core';
import type { ApprovalStore, ApprovalStoreTx } from './approval-store.js';
import { ApprovalError } from './errors.js';
import type { ActionHandler, ResourceHooks, UnlockReason } from './handlers.js';
import { type ApprovalRequest, type HistoryEntry, viewOf } from './request.js';
import { type Decider, entry } from './transitions.js';

/** What the engine's steps share. Internal. */
export interface EngineKernel {
  readonly store: ApprovalStore;
  readonly audit: AuditPort;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly leaseMs: number;
  readonly actions: Map<string, ActionHandler>;
  readonly resources: Map<string, ResourceHooks>;
}

/** Audit events of one step, recorded inside its unit of work after its writes (fail closed on PostgreSQL). */
export type PendingAudit = Array<{
  readonly action: string;
  readonly who: Decider | undefined;
  readonly extra?: Record<string, unknown>;
}>;

/** The audit action of each history entry type. */
export const AUDIT_ACTIONS: Readonly<Record<HistoryEntry['type'], string>> = {
  requested: 'approval.requested',
  approved: 'approval.approved',
  rejected: 'approval.rejected',
  bypassed: 'approval.bypassed',
  cancelled: 'approval.cancelled',
  expired: 'approval.expired',
  executed: 'approval.executed',
  failed: 'approval.execution_failed',
  executed_without_policy: 'approval.executed_without_policy',
};

/** Record `events` for `request` through the audit port. */
export async function recordAudit(
  k: EngineKernel,
  request: ApprovalRequest,
  events: PendingAudit,
  fallback: Decider,
): Promise<void> {
  for (const e of events) {
    const who = e.who ?? fallback;
    const event: AuditPortEvent = {
      tenantId: request.tenantId,
      actor: who.actor,
      ...(who.impersonator ? { impersonator: who.impersonator } : {}),
      action: e.action,
      targets: [
        { type: 'approval_request', id: request.id },
        { type: request.resource.type, id: request.resource.id },
      ],
      outcome: 'success',
      occurredAt: k.clock.now(),
      metadata: {
        requestId: request.id,
        action: request.action,
        makerId: request.makerId,
        ...(request.impersonatorId ? { makerImpersonatorId: request.impersonatorId } : {}),
        policyVersion: request.rules.version,
        approvalState: request.approvalState,
        executionState: request.executionState,
        ...e.extra,
      },
    };
    await k.audit.record(event);
  }
}

/** The error code recorded for a failed execution: a Tenantry code, else `HANDLER_ERROR` (never the message). */
export function failureCode(error: unknown): string {
  if (isTenantryError(error)) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(code) ? code : 'HANDLER_ERROR';
}

function hooksOf(k: EngineKernel, request: ApprovalRequest): ResourceHooks {
  const hooks = k.resources.get(request.resource.type);
  if (!hooks) {
    throw new ApprovalError(
      'APPROVAL_HANDLER_MISSING',
      `No resource hooks registered for ${request.resource.type}`,
      {
        details: { resourceType: request.resource.type },
      },
    );
  }
  return hooks;
}

/** Run the unlock hook of `request`'s resource. */
export async function runUnlock(
  k: EngineKernel,
  tx: ApprovalStoreTx,
  request: ApprovalRequest,
  reason: UnlockReason,
): Promise<void> {
  await hooksOf(k, request).unlock({
    tenantId: request.tenantId,
    resource: request.resource,
    requestId: request.id,
    action: request.action,
    transaction: tx.handle,
    reason,
  });
}

/** Run the lock hook of `request`'s resource. */
export async function runLock(k: EngineKernel, tx: ApprovalStoreTx, request: ApprovalRequest): Promise<void> {
  await hooksOf(k, request).lock({
    tenantId: request.tenantId,
    resource: request.resource,
    requestId: request.id,
    action: request.action,
    transaction: tx.handle,
  });
}

/**
 * Write `next` over `current` (conditional on `current.version`), releasing the soft lock with `unlock`
 * when given and still held. Transactional stores release it in the same transaction; others mark the
 * unlock pending, run the hook, then clear the mark (a failed hook is left to the sweeper).
 * @returns the stored request, or `null` when `current` changed meanwhile
 */
export async function writeTransition(
  k: EngineKernel,
  tx: ApprovalStoreTx,
  current: ApprovalRequest,
  next: ApprovalRequest,
  unlock?: UnlockReason,
): Promise<ApprovalRequest | null> {
  const releasing = unlock !== undefined && current.locked;
  const transactional = k.store.capabilities.transactional;
  const stored: ApprovalRequest = releasing
    ? { ...next, locked: false, unlockPending: !transactional }
    : next;
  if (!(await tx.update(stored, current.version))) return null;
  if (!releasing) return stored;
  if (transactional) {
    await runUnlock(k, tx, stored, unlock);
    return stored;
  }
  try {
    await runUnlock(k, tx, stored, unlock);
  } catch (error) {
    k.logger.warn(
      { requestId: stored.id, code: failureCode(error) },
      'approvals: unlock hook failed; the sweeper retries it',
    );
    return stored;
  }
  const done: ApprovalRequest = { ...stored, unlockPending: false, version: stored.version + 1 };
  return (await tx.update(done, stored.version)) ? done : stored;
}

class HandlerFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Thrown out of a unit of work the store owns when the handler (or the unlock hook) failed: the whole
 * transaction rolls back (the handler's writes and the EXECUTED mark with it), and the engine runs the
 * step again with `forcedFailure = code`, which records FAILED without calling the handler. Internal.
 */
export class ExecutionRolledBack {
  constructor(readonly code: string) {}
}

/**
 * Execute an approved request: `base` is `current` with the approval already applied (APPROVED, version
 * `current.version + 1`), not yet written. Transactional stores: mark EXECUTED, run the handler with the
 * transaction and release the lock; if anything throws, the handler's writes and the mark are undone —
 * by rolling back the store's own transaction ({@link ExecutionRolledBack}; the step then reruns with
 * `forcedFailure`), or by a savepoint inside a caller's transaction — and FAILED is written instead. Other stores: claim with a lease, call
 * the handler, then mark EXECUTED or FAILED if the claim is still ours.
 * @returns the stored request, or `null` when `current` changed meanwhile (retry the step)
 */
export async function runExecution(
  k: EngineKernel,
  tx: ApprovalStoreTx,
  current: ApprovalRequest,
  base: ApprovalRequest,
  who: Decider,
  audits: PendingAudit,
  forcedFailure?: string,
): Promise<ApprovalRequest | null> {
  const handler = k.actions.get(current.action);
  if (!handler) {
    throw new ApprovalError(
      'APPROVAL_HANDLER_MISSING',
      `No handler registered for action ${current.action}`,
      {
        details: { action: current.action },
      },
    );
  }
  const now = k.clock.now();
  const retryFailed = current.rules.policy?.retryFailed === true;
  const attempts = current.attempts + 1;
  const executed = (from: ApprovalRequest): ApprovalRequest => ({
    ...from,
    executionState: 'EXECUTED',
    attempts,
    lease: undefined,
    history: [...from.history, entry('executed', who, now)],
  });
  const failed = (from: ApprovalRequest, code: string): ApprovalRequest => ({
    ...from,
    executionState: 'FAILED',
    attempts,
    lastErrorCode: code,
    lease: undefined,
    history: [...from.history, entry('failed', who, now, { errorCode: code })],
  });
  const call = async (request: ApprovalRequest, transaction: unknown): Promise<void> => {
    try {
      await handler.execute({
        tenantId: request.tenantId,
        request: viewOf(request, now),
        payload: request.payload,
        idempotencyKey: request.id,
        transaction,
      });
    } catch (error) {
      throw new HandlerFailure(error);
    }
  };

  if (k.store.capabilities.transactional && forcedFailure !== undefined) {
    const written = await writeTransition(
      k,
      tx,
      current,
      failed(base, forcedFailure),
      retryFailed ? undefined : 'failed',
    );
    if (written) audits.push({ action: AUDIT_ACTIONS.failed, who, extra: { errorCode: forcedFailure } });
    return written;
  }
  if (k.store.capabilities.transactional && tx.ownsTransaction) {
    const mark = { ...executed(base), locked: false, unlockPending: false };
    if (!(await tx.update(mark, current.version))) return null;
    try {
      await call(mark, tx.handle);
      if (current.locked) await runUnlock(k, tx, mark, 'executed');
    } catch (error) {
      throw new ExecutionRolledBack(failureCode(error instanceof HandlerFailure ? error.error : error));
    }
    audits.push({ action: AUDIT_ACTIONS.executed, who });
    return mark;
  }
  if (k.store.capabilities.transactional && tx.savepoint) {
    const savepoint = tx.savepoint.bind(tx);
    try {
      const done = await savepoint(async () => {
        const mark = executed(base);
        if (!(await tx.update({ ...mark, locked: false, unlockPending: false }, current.version)))
          return null;
        await call(mark, tx.handle);
        if (current.locked) await runUnlock(k, tx, mark, 'executed');
        return { ...mark, locked: false, unlockPending: false };
      });
      if (done) audits.push({ action: AUDIT_ACTIONS.executed, who });
      return done;
    } catch (error) {
      const code = failureCode(error instanceof HandlerFailure ? error.error : error);
      const written = await writeTransition(
        k,
        tx,
        current,
        failed(base, code),
        retryFailed ? undefined : 'failed',
      );
      if (written) audits.push({ action: AUDIT_ACTIONS.failed, who, extra: { errorCode: code } });
      return written;
    }
  }

  const claim: ApprovalRequest = {
    ...base,
    executionState: 'RUNNING',
    attempts,
    lease: { token: uuidv7(), until: new Date(now.getTime() + k.leaseMs).toISOString() },
  };
  if (!(await tx.update(claim, current.version))) return null;
  let outcome: ApprovalRequest;
  let code: string | undefined;
  try {
    await call(claim, undefined);
    outcome = executed(claim);
  } catch (error) {
    code = failureCode(error instanceof HandlerFailure ? error.error : error);
    outcome = failed(claim, code);
  }
  const written = await writeTransition(
    k,
    tx,
    claim,
    { ...outcome, version: claim.version + 1 },
    code === undefined ? 'executed' : retryFailed ? undefined : 'failed',
  );
  if (!written) {
    // The lease expired and someone else reclaimed the execution: they will mark it (at-most-once mark).
    return (await tx.get(current.tenantId, current.id)) ?? claim;
  }
  audits.push(
    code === undefined
      ? { action: AUDIT_ACTIONS.executed, who }
      : { action: AUDIT_ACTIONS.failed, who, extra: { errorCode: code } },
  );
  return written;
}
