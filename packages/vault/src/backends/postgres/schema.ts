import type { Migration } from '@tenantry/core/postgres';

/** The snapshot index table. */
export const SNAPSHOTS_TABLE = 'tenantry_vault_snapshots';
/** The module registry record table. */
export const MODULES_TABLE = 'tenantry_vault_modules';

/**
 * The SQL of migration 1, exactly as shipped in `migrations/001_tenantry_vault.sql`. Tenant column
 * first in every key, so the table can be distributed by tenant.
 */
export const VAULT_MIGRATION_SQL = `
CREATE TABLE IF NOT EXISTS ${SNAPSHOTS_TABLE} (
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
  ON ${SNAPSHOTS_TABLE} (tenant_id, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS ${MODULES_TABLE} (
  name text PRIMARY KEY,
  schema_version integer NOT NULL CHECK (schema_version >= 1),
  depends_on text[] NOT NULL,
  checksum text NOT NULL,
  recorded_at timestamptz NOT NULL
);
`;

/**
 * The vault tables as a versioned migration component (`vault`) for core's `runMigrations`.
 * @example await runMigrations(pool, [...coreModelMigrations, ...vaultMigrations]);
 */
export const vaultMigrations: readonly Migration[] = Object.freeze([
  { component: 'vault', version: 1, name: 'snapshot index and module registry', sql: VAULT_MIGRATION_SQL },
]);
