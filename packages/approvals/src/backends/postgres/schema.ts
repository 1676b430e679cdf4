import type { Migration } from '@tenantry/core/postgres';

/** The request table. */
export const REQUESTS_TABLE = 'tenantry_approval_requests';
/** The policy-set table (one row per tenant and version). */
export const POLICIES_TABLE = 'tenantry_approval_policies';

/**
 * The SQL of migration 1 (tables and indexes), exactly as shipped in
 * `migrations/001_tenantry_approvals.sql`. Tenant column first in every key, so the tables can be
 * distributed by tenant.
 */
export const APPROVALS_MIGRATION_SQL = `
CREATE TABLE IF NOT EXISTS ${REQUESTS_TABLE} (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  action text NOT NULL,
  resource_type text NOT NULL,
  resource_id text NOT NULL,
  maker_id text NOT NULL,
  approval_state text NOT NULL CHECK (approval_state IN ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED')),
  execution_state text NOT NULL CHECK (execution_state IN ('NONE', 'RUNNING', 'EXECUTED', 'FAILED')),
  expires_at timestamptz NOT NULL,
  approver_roles text[] NOT NULL,
  maker_may_approve boolean NOT NULL,
  decided_by text[] NOT NULL,
  unlock_pending boolean NOT NULL,
  version integer NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
) WITH (fillfactor = 70);
CREATE UNIQUE INDEX IF NOT EXISTS tenantry_approval_requests_one_pending
  ON ${REQUESTS_TABLE} (tenant_id, action, resource_type, resource_id) WHERE approval_state = 'PENDING';
CREATE INDEX IF NOT EXISTS tenantry_approval_requests_by_resource
  ON ${REQUESTS_TABLE} (tenant_id, resource_type, resource_id, id);
CREATE INDEX IF NOT EXISTS tenantry_approval_requests_by_maker
  ON ${REQUESTS_TABLE} (tenant_id, maker_id, id);
CREATE INDEX IF NOT EXISTS tenantry_approval_requests_unlock_pending
  ON ${REQUESTS_TABLE} (tenant_id) WHERE unlock_pending;
CREATE TABLE IF NOT EXISTS ${POLICIES_TABLE} (
  tenant_id text NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  body jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  PRIMARY KEY (tenant_id, version)
);
`;

/**
 * The approval tables as a versioned migration component (`approvals`) for core's `runMigrations`.
 * @example await runMigrations(pool, [...coreModelMigrations, ...approvalsMigrations]);
 */
export const approvalsMigrations: readonly Migration[] = Object.freeze([
  {
    component: 'approvals',
    version: 1,
    name: 'approval requests and policy sets',
    sql: APPROVALS_MIGRATION_SQL,
  },
]);
