import type { PolicySet } from '../../policy.js';
import type { ApprovalRequest } from '../../request.js';

/** A request row as selected (`body`, `version`). */
export interface RequestRow {
  body: unknown;
  version: number;
}

const json = (v: unknown): Record<string, unknown> =>
  (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;

/** The people who decided a request (approve, reject, bypass), for the `decided_by` column. */
export function decidedBy(request: ApprovalRequest): string[] {
  const ids = request.history
    .filter((h) => h.type === 'approved' || h.type === 'rejected' || h.type === 'bypassed')
    .map((h) => h.actorId ?? '');
  return [...new Set(ids.filter(Boolean))];
}

/** The body column: the request without its version, as JSON text (the version column is the truth for the conditional writes; text, not jsonb, so PostgreSQL does not re-parse it on every transition). */
export function encodeBody(request: ApprovalRequest): string {
  const { version: _version, ...rest } = request;
  return JSON.stringify(rest);
}

/** A request from its row. */
export function decodeRequest(row: RequestRow): ApprovalRequest {
  return { ...(json(row.body) as unknown as ApprovalRequest), version: Number(row.version) };
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
    decidedBy(r),
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
