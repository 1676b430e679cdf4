import { TenantryError, type TenantryErrorOptions, defineErrorCodes } from '@tenantry/core';

/**
 * Error codes raised by `@tenantry/approvals`, with the HTTP status adapters answer with. Codes are
 * stable API: match on them, never on messages. Core's kernel codes (`VALIDATION_FAILED`,
 * `TENANT_CONTEXT_*`, `PERMISSION_DENIED`) are raised too.
 */
export const ApprovalErrorCodes = defineErrorCodes({
  /** No request with that id exists for the tenant in context (another tenant's requests are never found). */
  APPROVAL_NOT_FOUND: { status: 404 },
  /** A request for the same action on the same resource is still pending; `details.pendingRequestId` names it. */
  APPROVAL_DUPLICATE_PENDING: { status: 409 },
  /** The maker tried to approve their own request and the policy does not allow it. */
  APPROVAL_SELF_APPROVAL: { status: 403 },
  /** The actor holds none of the policy's approver roles (or lacks its attributes), or may not bypass. */
  APPROVAL_NOT_ELIGIBLE: { status: 403 },
  /** The actor already decided this request; each person counts once. */
  APPROVAL_ALREADY_DECIDED: { status: 409 },
  /** The request is not in a state that allows the transition (final states never change). */
  APPROVAL_INVALID_STATE: { status: 409 },
  /** The request's deadline has passed: it is EXPIRED whether or not a sweeper has run. */
  APPROVAL_EXPIRED: { status: 410 },
  /** Only the maker may cancel a request. */
  APPROVAL_NOT_MAKER: { status: 403 },
  /** No handler (or resource hooks) is registered for the action or resource type. */
  APPROVAL_HANDLER_MISSING: { status: 500 },
  /** Another process holds an unexpired execution claim (lease) on the request. Retry after the lease. */
  APPROVAL_EXECUTION_IN_PROGRESS: { status: 409, retryable: true },
  /** The execution failed and the policy does not allow a retry without a new request. */
  APPROVAL_RETRY_NOT_ALLOWED: { status: 409 },
  /** Bypass (break-glass) is disabled for the tenant. */
  APPROVAL_BYPASS_DISABLED: { status: 403 },
  /** The tenant's policies changed since the version the caller read. Re-read and retry. */
  APPROVAL_POLICY_CONFLICT: { status: 409 },
  /** A request kept changing under concurrent writers longer than the retry budget. Retry. */
  APPROVAL_CONFLICT: { status: 503, retryable: true },
  /** A pagination cursor is malformed or belongs to another query. */
  APPROVAL_CURSOR_INVALID: { status: 400 },
  /** The PostgreSQL tables do not exist: run `runMigrations(pool, approvalsMigrations)`. */
  APPROVAL_NOT_MIGRATED: { status: 500 },
  /** The store could not be reached. Retry. */
  APPROVAL_STORE_UNAVAILABLE: { status: 503, retryable: true },
  /** The store refused a statement for another reason; `details.sqlState` names PostgreSQL's code, the cause holds the driver's error. */
  APPROVAL_STORE_FAILED: { status: 500 },
});

/** One of {@link ApprovalErrorCodes}. */
export type ApprovalErrorCode = keyof typeof ApprovalErrorCodes;

/**
 * Error of `@tenantry/approvals`; `code` is one of {@link ApprovalErrorCodes}. Messages and details
 * hold ids and codes only, never payloads or justifications.
 * @example if (isTenantryError(e, 'APPROVAL_DUPLICATE_PENDING')) show(e.details.pendingRequestId);
 */
export class ApprovalError extends TenantryError {
  declare readonly code: ApprovalErrorCode;
  constructor(code: ApprovalErrorCode, message: string, options: TenantryErrorOptions = {}) {
    // The base class coerces odd arguments (a symbol code or message) and never throws on them.
    super(code, message, options);
  }
}
