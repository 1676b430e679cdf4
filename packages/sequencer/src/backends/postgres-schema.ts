import type { PgQueryable } from '@tenantry/core';

/**
 * The PostgreSQL migration, identical to `migrations/postgres/001_sequencer.sql` shipped in the
 * package (run that file with your migration tool, or call {@link migratePostgres}).
 */
export const POSTGRES_MIGRATION_SQL = `SELECT pg_advisory_xact_lock(8215349027311);
CREATE TABLE IF NOT EXISTS tenantry_sequencer_counters (
  tenant text NOT NULL,
  series text NOT NULL,
  period text NOT NULL,
  last_value bigint,
  fence bigint NOT NULL DEFAULT 0,
  last_issue_date date,
  PRIMARY KEY (tenant, series, period)
);
CREATE TABLE IF NOT EXISTS tenantry_sequencer_voids (
  tenant text NOT NULL,
  series text NOT NULL,
  period text NOT NULL,
  number bigint NOT NULL,
  reason text NOT NULL,
  voided_at timestamptz NOT NULL,
  PRIMARY KEY (tenant, series, period, number)
);
CREATE SEQUENCE IF NOT EXISTS tenantry_sequencer_fence;`;

/**
 * Create the sequencer's tables (idempotent, serialised by an advisory lock, one implicit transaction).
 * @example await migratePostgres(pool);
 */
export async function migratePostgres(db: PgQueryable): Promise<void> {
  // No parameters: pg sends it as one simple-protocol query, which PostgreSQL runs as one transaction.
  await db.query(POSTGRES_MIGRATION_SQL);
}
