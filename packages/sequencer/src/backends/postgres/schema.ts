import type { Migration } from '@tenantry/core/postgres';

/**
 * Version 1 of the sequencer's PostgreSQL schema: the statements of the shipped
 * `migrations/postgres/001_sequencer.sql` (a test keeps the two identical). Idempotent, and serialised
 * by an advisory lock when run by another migration tool. Keys start with the tenant, so the tables can
 * be distributed by tenant (Citus-style) unchanged.
 */
const V1_SQL = `SELECT pg_advisory_xact_lock(8215349027311);
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
 * The sequencer's PostgreSQL tables as versioned migrations for core's `runMigrations` (component
 * `sequencer`), applied with the same runner as `coreModelMigrations`. The same SQL ships as
 * `migrations/postgres/001_sequencer.sql` for other migration tools.
 * @example
 * import { runMigrations } from '@tenantry/core/postgres';
 * await runMigrations(pool, sequencerMigrations);
 */
export const sequencerMigrations: readonly Migration[] = Object.freeze([
  Object.freeze({
    component: 'sequencer',
    version: 1,
    name: 'counters, voids and fence sequence',
    sql: V1_SQL,
  }),
]);
