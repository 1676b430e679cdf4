import type { PolicySet } from '../../policy.js';
import { type ApprovalRequest, decidersOf } from '../../request.js';

/** A request row as selected (`body`, `version`). */
export interface RequestRow {
  body: unknown;
  version: number;
}

const json = (v: unknown): Record<string, unknown> =>
  (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;

/** The body column: the request without its version, as JSON text (the version column is the truth for the conditional writes; text, not jsonb, so PostgreSQL does not re-parse it on every transition). */
export function encodeBody(request: ApprovalRequest): string {
  // The same text as stringifying the request without `version` (JSON omits undefined), without the
  // slower object-rest copy.
  return JSON.stringify({ ...request, version: undefined });
}

/** A request from its row. */
export function decodeRequest(row: RequestRow): ApprovalRequest {
  // A text body is parsed into a fresh object, set in place; an object from the driver is copied.
  const body =
    typeof row.body === 'string' ? (JSON.parse(row.body) as Record<string, unknown>) : { ...json(row.body) };
  body.version = Number(row.version);
  return body as unknown as ApprovalRequest;
}

/** The column values of a request, in the order of `REQUEST_COLUMNS`. */
export function requestValues(r: ApprovalRequest): unknown[] {
  return [
    r.tenantId,
    r.id,
    r.action,
    r.resource.type,
    r.resource.id,
    r.makerId,
    r.approvalState,
    r.executionState,
    r.expiresAt,
    r.rules.policy?.approverRoles ?? [],
    r.rules.policy?.allowMakerApproval ?? false,
    decidersOf(r),
    r.unlockPending,
    r.version,
    encodeBody(r),
    r.createdAt,
    r.updatedAt,
  ];
}

/** The columns filled by {@link requestValues}. */
export const REQUEST_COLUMNS =
  'tenant_id, id, action, resource_type, resource_id, maker_id, approval_state, execution_state, expires_at, approver_roles, maker_may_approve, decided_by, unlock_pending, version, body, created_at, updated_at';

/** A policy set from its row. */
export function decodePolicySet(row: {
  tenant_id: string;
  version: number;
  body: unknown;
  created_at: Date | string;
  created_by: string;
}): PolicySet {
  const body = json(row.body) as unknown as Pick<PolicySet, 'policies' | 'bypass'>;
  return {
    tenantId: row.tenant_id,
    version: Number(row.version),
    policies: body.policies,
    bypass: body.bypass,
    createdAt: new Date(row.created_at),
    createdBy: row.created_by,
  };
}
