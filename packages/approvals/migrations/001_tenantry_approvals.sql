-- @tenantry/approvals migration 1 (component "approvals"): the same SQL as approvalsMigrations.
-- Run it with your migration tool, or use runMigrations(pool, approvalsMigrations) from @tenantry/core/postgres.
CREATE TABLE IF NOT EXISTS tenantry_approval_requests (
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
  ON tenantry_approval_requests (tenant_id, action, resource_type, resource_id) WHERE approval_state = 'PENDING';
CREATE INDEX IF NOT EXISTS tenantry_approval_requests_by_resource
  ON tenantry_approval_requests (tenant_id, resource_type, resource_id, id);
CREATE INDEX IF NOT EXISTS tenantry_approval_requests_by_maker
  ON tenantry_approval_requests (tenant_id, maker_id, id);
CREATE INDEX IF NOT EXISTS tenantry_approval_requests_unlock_pending
  ON tenantry_approval_requests (tenant_id) WHERE unlock_pending;
CREATE TABLE IF NOT EXISTS tenantry_approval_policies (
  tenant_id text NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  body jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  PRIMARY KEY (tenant_id, version)
);
