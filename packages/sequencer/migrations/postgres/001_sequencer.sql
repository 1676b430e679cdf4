-- @tenantry/sequencer: PostgreSQL schema, version 1. Idempotent; safe to run from several processes.
-- Keys start with the tenant, so the tables can be distributed by tenant (Citus-style) unchanged.
SELECT pg_advisory_xact_lock(8215349027311);

-- One counter per (tenant, series, period). last_value is the last committed number (NULL before the
-- first); fence is the newest lock holder's fencing token seen (callback form only).
CREATE TABLE IF NOT EXISTS tenantry_sequencer_counters (
  tenant text NOT NULL,
  series text NOT NULL,
  period text NOT NULL,
  last_value bigint,
  fence bigint NOT NULL DEFAULT 0,
  last_issue_date date,
  PRIMARY KEY (tenant, series, period)
);

-- Voided numbers stay consumed: a void is a record, never a deletion or a reissue.
CREATE TABLE IF NOT EXISTS tenantry_sequencer_voids (
  tenant text NOT NULL,
  series text NOT NULL,
  period text NOT NULL,
  number bigint NOT NULL,
  reason text NOT NULL,
  voided_at timestamptz NOT NULL,
  PRIMARY KEY (tenant, series, period, number)
);

-- Fencing tokens for the advisory-lock backend: nextval is not rolled back, so tokens only grow.
CREATE SEQUENCE IF NOT EXISTS tenantry_sequencer_fence;
