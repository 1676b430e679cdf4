import type { JsonValue } from '@tenantry/core';
import type { ApprovalRequestView, ResourceRef } from './request.js';

/** What an action handler receives when an approved request runs. */
export interface ActionContext {
  readonly tenantId: string;
  readonly request: ApprovalRequestView;
  readonly payload: JsonValue;
  /**
   * Stable for the request across retries and reclaimed leases (the request id). On stores without
   * shared transactions the handler may be called more than once (at-least-once call): make its effect
   * idempotent with this key.
   */
  readonly idempotencyKey: string;
  /**
   * On PostgreSQL, the transaction that marks the request EXECUTED (a `PgQueryable`): write through it
   * and the effect commits together with the mark, or not at all (exactly-once effect). `undefined` on
   * other stores.
   */
  readonly transaction: unknown;
}

/** The code that runs an approved action. Throwing marks the execution FAILED with the error's code. */
export interface ActionHandler {
  execute(context: ActionContext): Promise<void> | void;
}

/** What the soft-lock hooks receive. */
export interface ResourceHookContext {
  readonly tenantId: string;
  readonly resource: ResourceRef;
  readonly requestId: string;
  readonly action: string;
  /** On PostgreSQL, the transaction of the transition (the caller's, for `request` with `transaction`). */
  readonly transaction: unknown;
}

/**
 * Soft-lock hooks of a resource type, e.g. set and clear `status = 'PENDING_DELETION'` on an asset.
 * `unlock` runs when the request is rejected, expired, cancelled, executed, or failed for good; it must
 * be idempotent (on stores without shared transactions a crash may make it run twice).
 */
export interface ResourceHooks {
  lock(context: ResourceHookContext): Promise<void> | void;
  unlock(context: ResourceHookContext & { readonly reason: UnlockReason }): Promise<void> | void;
}

/** Why a soft lock is released. */
export type UnlockReason = 'rejected' | 'expired' | 'cancelled' | 'executed' | 'failed';
