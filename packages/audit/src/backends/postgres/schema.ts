import { parseInput } from '@tenantry/core';
import { type Migration, quoteIdent } from '@tenantry/core/postgres';
import { z } from 'zod';

// Lower snake case, short enough that `<prefix>_events_YYYYMM_seq_key` stays within 63 bytes; the
// names are also embedded in SQL string literals inside the functions, which this pattern keeps safe.
const IDENT = /^[a-z_][a-z0-9_]{0,40}$/;
const ident = (what: string) =>
  z.string().regex(IDENT, `${what} must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 41 chars)`);

/** Names of the PostgreSQL objects of the audit log. */
export const PostgresAuditNamesSchema = z.object({
  /** Schema holding the tables and functions. @default 'public' */
  schema: ident('schema').default('public'),
  /** Prefix of every table and function name. @default 'tenantry_audit' */
  prefix: ident('prefix').default('tenantry_audit'),
});
/** Names of the PostgreSQL objects of the audit log. */
export type PostgresAuditNames = z.input<typeof PostgresAuditNamesSchema>;

/**
 * Resolved, validated identifiers.
 * @throws ValidationError `VALIDATION_FAILED` for a name that is not a plain lower-case identifier
 */
export function auditNames(names: PostgresAuditNames = {}) {
  if (typeof names !== 'object' || names === null || Array.isArray(names)) {
    parseInput(PostgresAuditNamesSchema, names, 'audit table names'); // throws VALIDATION_FAILED at the root
  }
  const { schema, prefix } = parseInput(
    PostgresAuditNamesSchema,
    { schema: names.schema, prefix: names.prefix },
    'audit table names',
  );
  const q = (n: string) => `${quoteIdent(schema)}.${quoteIdent(`${prefix}_${n}`)}`;
  return {
    schema,
    prefix,
    events: q('events'),
    checkpoints: q('checkpoints'),
    refuse: q('refuse_change'),
    heads: q('heads'),
    guard: q('guard_chain'),
    ensurePartitions: q('ensure_partitions'),
    partitionName: (suffix: string) => `${prefix}_events_${suffix}`,
  };
}

/**
 * The migration creating the audit tables: events partitioned by month of store time (epoch µs),
 * checkpoints,
 * and the triggers that make both append-only (UPDATE, DELETE and TRUNCATE raise, for every role,
 * owner included, unless a superuser disables triggers). Idempotent. The same SQL, for the default
 * names, ships as `migrations/001_tenantry_audit.sql` and is {@link auditMigrations}' version 1;
 * apply {@link auditChainGuardSql} (version 2) after it.
 * @throws ValidationError `VALIDATION_FAILED` for names that are not plain lower-case identifiers
 * @example await pool.query(auditMigrationSql({ schema: 'audit' }));
 */
export function auditMigrationSql(names: PostgresAuditNames = {}): string {
  const n = auditNames(names);
  return `-- @tenantry/audit migration 001 (schema ${n.schema}, prefix ${n.prefix})
CREATE TABLE IF NOT EXISTS ${n.events} (
  tenant_id   text        NOT NULL,
  seq         bigint      NOT NULL CHECK (seq > 0),
  recorded_at bigint      NOT NULL,
  prev_hash   text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash        text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  body        text        NOT NULL,
  id          uuid        NOT NULL,
  actor_id    text        NOT NULL,
  action      text        NOT NULL,
  occurred_at timestamptz NOT NULL,
  targets     text[]      NOT NULL
) PARTITION BY RANGE (recorded_at);
COMMENT ON COLUMN ${n.events}.recorded_at IS 'store time, epoch microseconds (hashed; partition key)';
COMMENT ON COLUMN ${n.events}.body IS 'canonical JSON of the event, exactly as hashed: the record';
COMMENT ON COLUMN ${n.events}.targets IS 'query index derived from body: type: and type:id per target';
CREATE INDEX IF NOT EXISTS ${n.prefix}_events_seq ON ${n.events} (tenant_id, seq);
CREATE INDEX IF NOT EXISTS ${n.prefix}_events_id ON ${n.events} (tenant_id, id);
CREATE INDEX IF NOT EXISTS ${n.prefix}_events_time ON ${n.events} (tenant_id, occurred_at);
CREATE INDEX IF NOT EXISTS ${n.prefix}_events_actor ON ${n.events} (tenant_id, actor_id, seq);
CREATE INDEX IF NOT EXISTS ${n.prefix}_events_action ON ${n.events} (tenant_id, action, seq);
CREATE INDEX IF NOT EXISTS ${n.prefix}_events_targets ON ${n.events} USING gin (targets);

CREATE TABLE IF NOT EXISTS ${n.checkpoints} (
  chain       text   NOT NULL,
  seq         bigint NOT NULL,
  hash        text   NOT NULL,
  recorded_at bigint NOT NULL,
  signed_at   bigint NOT NULL,
  key_id      text   NOT NULL,
  signature   text   NOT NULL,
  PRIMARY KEY (chain, seq, key_id, signed_at)
);

CREATE OR REPLACE FUNCTION ${n.refuse}() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  RAISE EXCEPTION 'tenantry audit tables are append-only: % refused on %', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$f$;

DROP TRIGGER IF EXISTS ${n.prefix}_no_change ON ${n.events};
CREATE TRIGGER ${n.prefix}_no_change BEFORE UPDATE OR DELETE ON ${n.events}
  FOR EACH ROW EXECUTE FUNCTION ${n.refuse}();
DROP TRIGGER IF EXISTS ${n.prefix}_no_truncate ON ${n.events};
CREATE TRIGGER ${n.prefix}_no_truncate BEFORE TRUNCATE ON ${n.events}
  FOR EACH STATEMENT EXECUTE FUNCTION ${n.refuse}();
DROP TRIGGER IF EXISTS ${n.prefix}_no_change ON ${n.checkpoints};
CREATE TRIGGER ${n.prefix}_no_change BEFORE UPDATE OR DELETE ON ${n.checkpoints}
  FOR EACH ROW EXECUTE FUNCTION ${n.refuse}();
DROP TRIGGER IF EXISTS ${n.prefix}_no_truncate ON ${n.checkpoints};
CREATE TRIGGER ${n.prefix}_no_truncate BEFORE TRUNCATE ON ${n.checkpoints}
  FOR EACH STATEMENT EXECUTE FUNCTION ${n.refuse}();

REVOKE UPDATE, DELETE, TRUNCATE ON ${n.events}, ${n.checkpoints} FROM PUBLIC;

-- Monthly partitions of store time. SECURITY DEFINER so the application role (which must not own
-- the table) can create the partition it is about to write to. Each partition gets a UNIQUE
-- (tenant_id, seq) index (a partitioned table cannot have one without the partition key) and its
-- own TRUNCATE trigger (statement triggers are not inherited by partitions).
CREATE OR REPLACE FUNCTION ${n.ensurePartitions}(from_time timestamptz, months integer DEFAULT 2)
  RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
  start_month timestamptz := date_trunc('month', from_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  lo timestamptz;
  hi timestamptz;
  part text;
  created integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('${n.schema}.${n.prefix}.partitions'));
  FOR i IN 0 .. greatest(months, 1) - 1 LOOP
    lo := start_month + make_interval(months => i);
    hi := start_month + make_interval(months => i + 1);
    part := '${n.prefix}_events_' || to_char(lo AT TIME ZONE 'UTC', 'YYYYMM');
    IF to_regclass(format('%I.%I', '${n.schema}', part)) IS NULL THEN
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF ${n.events} FOR VALUES FROM (%s) TO (%s)',
        '${n.schema}', part, (extract(epoch FROM lo) * 1000000)::bigint, (extract(epoch FROM hi) * 1000000)::bigint);
      EXECUTE format('CREATE UNIQUE INDEX %I ON %I.%I (tenant_id, seq)', part || '_seq_key', '${n.schema}', part);
      EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION ${n.refuse}()',
        '${n.prefix}_no_truncate', '${n.schema}', part);
      EXECUTE format('REVOKE ALL ON %I.%I FROM PUBLIC', '${n.schema}', part);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END
$f$;
REVOKE ALL ON FUNCTION ${n.ensurePartitions}(timestamptz, integer) FROM PUBLIC;
SELECT ${n.ensurePartitions}(now(), 3);
`;
}

/**
 * Migration 002: the database enforces the chain's shape, so a role that may only INSERT cannot
 * store what `verify` would reject at the tail. A per-tenant head row (`<prefix>_heads`) is checked
 * and advanced by a BEFORE INSERT trigger in the same transaction as each event: the first event of
 * a chain must have `seq = 1` and the genesis `prev_hash`; every later one `seq = head.seq + 1`,
 * `prev_hash = head.hash` and `recorded_at >= head.recorded_at`. This closes what per-partition
 * uniqueness left open (a second event with an existing seq in another month's partition, a
 * fork, a gap). The trigger runs as the table owner (SECURITY DEFINER); the application role gets no
 * privilege on the heads table. Existing chains are backfilled. Needs PostgreSQL 13 or later (row
 * triggers on partitioned tables). What the trigger cannot check cheaply (that the hash is the
 * SHA-256 of the row, that the index columns match the body) `verify` checks.
 * @throws ValidationError `VALIDATION_FAILED` for names that are not plain lower-case identifiers
 */
export function auditChainGuardSql(names: PostgresAuditNames = {}): string {
  const n = auditNames(names);
  return `-- @tenantry/audit migration 002 (schema ${n.schema}, prefix ${n.prefix}): the database enforces the chain's shape
CREATE TABLE IF NOT EXISTS ${n.heads} (
  tenant_id   text   PRIMARY KEY,
  seq         bigint NOT NULL,
  hash        text   NOT NULL,
  recorded_at bigint NOT NULL
);
REVOKE ALL ON ${n.heads} FROM PUBLIC;
LOCK TABLE ${n.events} IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO ${n.heads} (tenant_id, seq, hash, recorded_at)
  SELECT DISTINCT ON (tenant_id) tenant_id, seq, hash, recorded_at FROM ${n.events} ORDER BY tenant_id, seq DESC
  ON CONFLICT (tenant_id) DO NOTHING;

CREATE OR REPLACE FUNCTION ${n.guard}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
  h record;
BEGIN
  SELECT seq, hash, recorded_at INTO h FROM ${n.heads} WHERE tenant_id = NEW.tenant_id FOR UPDATE;
  IF NOT FOUND THEN
    IF NEW.seq <> 1 OR NEW.prev_hash <> repeat('0', 64) THEN
      RAISE EXCEPTION 'tenantry audit chain: the first event of a chain must have seq 1 and the genesis prev_hash'
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    INSERT INTO ${n.heads} (tenant_id, seq, hash, recorded_at) VALUES (NEW.tenant_id, NEW.seq, NEW.hash, NEW.recorded_at);
  ELSE
    IF NEW.seq <> h.seq + 1 OR NEW.prev_hash <> h.hash OR NEW.recorded_at < h.recorded_at THEN
      RAISE EXCEPTION 'tenantry audit chain: an event must extend the head (seq head+1, prev_hash = head hash, store time not before it)'
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    UPDATE ${n.heads} SET seq = NEW.seq, hash = NEW.hash, recorded_at = NEW.recorded_at WHERE tenant_id = NEW.tenant_id;
  END IF;
  RETURN NEW;
END
$f$;
REVOKE ALL ON FUNCTION ${n.guard}() FROM PUBLIC;

DROP TRIGGER IF EXISTS ${n.prefix}_guard_chain ON ${n.events};
CREATE TRIGGER ${n.prefix}_guard_chain BEFORE INSERT ON ${n.events}
  FOR EACH ROW EXECUTE FUNCTION ${n.guard}();
`;
}

/**
 * Grants for the application role: read and append, create partitions; nothing else. The role must
 * not own the tables (an owner could disable the triggers).
 * @throws ValidationError `VALIDATION_FAILED` for a role that is not a plain identifier
 * @example await pool.query(auditGrantsSql('app_user'));
 */
export function auditGrantsSql(role: string, names: PostgresAuditNames = {}): string {
  const r = quoteIdent(
    parseInput(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain SQL identifier'),
      role,
      'audit role',
    ),
  );
  const n = auditNames(names);
  return `GRANT USAGE ON SCHEMA ${quoteIdent(n.schema)} TO ${r};
GRANT SELECT, INSERT ON ${n.events}, ${n.checkpoints} TO ${r};
REVOKE UPDATE, DELETE, TRUNCATE ON ${n.events}, ${n.checkpoints} FROM ${r};
GRANT EXECUTE ON FUNCTION ${n.ensurePartitions}(timestamptz, integer) TO ${r};
`;
}

/**
 * The audit tables as versioned migrations for core's `runMigrations` (component `audit`), for the
 * default names (schema `public`, prefix `tenantry_audit`); the same SQL ships as `migrations/*.sql`.
 * Run them with the migration role (the tables' owner), then grant the application role with
 * {@link auditGrantsSql}. For other names, apply `auditMigrationSql(names)` with your own tool.
 * @example await runMigrations(ownerPool, [...coreModelMigrations, ...auditMigrations]);
 */
export const auditMigrations: readonly Migration[] = Object.freeze([
  { component: 'audit', version: 1, name: 'audit events and checkpoints', sql: auditMigrationSql() },
  { component: 'audit', version: 2, name: 'database-enforced chain shape', sql: auditChainGuardSql() },
]);
