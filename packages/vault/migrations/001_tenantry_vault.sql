-- @tenantry/vault migration 1 (component 'vault', version 1): snapshot index and module registry.
-- The same statements as vaultMigrations; prefer runMigrations(pool, vaultMigrations) from @tenantry/core/postgres.
CREATE TABLE IF NOT EXISTS tenantry_vault_snapshots (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('snapshot', 'safety')),
  status text NOT NULL CHECK (status IN ('writing', 'complete', 'failed')),
  checksum text NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS tenantry_vault_snapshots_by_time
  ON tenantry_vault_snapshots (tenant_id, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS tenantry_vault_modules (
  name text PRIMARY KEY,
  schema_version integer NOT NULL CHECK (schema_version >= 1),
  depends_on text[] NOT NULL,
  checksum text NOT NULL,
  recorded_at timestamptz NOT NULL
);
