-- @tenantry/audit migration 001 (schema public, prefix tenantry_audit)
CREATE TABLE IF NOT EXISTS "public"."tenantry_audit_events" (
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
COMMENT ON COLUMN "public"."tenantry_audit_events".recorded_at IS 'store time, epoch microseconds (hashed; partition key)';
COMMENT ON COLUMN "public"."tenantry_audit_events".body IS 'canonical JSON of the event, exactly as hashed: the record';
COMMENT ON COLUMN "public"."tenantry_audit_events".targets IS 'query index derived from body: type: and type:id per target';
CREATE INDEX IF NOT EXISTS tenantry_audit_events_seq ON "public"."tenantry_audit_events" (tenant_id, seq);
CREATE INDEX IF NOT EXISTS tenantry_audit_events_id ON "public"."tenantry_audit_events" (tenant_id, id);
CREATE INDEX IF NOT EXISTS tenantry_audit_events_time ON "public"."tenantry_audit_events" (tenant_id, occurred_at);
CREATE INDEX IF NOT EXISTS tenantry_audit_events_actor ON "public"."tenantry_audit_events" (tenant_id, actor_id, seq);
CREATE INDEX IF NOT EXISTS tenantry_audit_events_action ON "public"."tenantry_audit_events" (tenant_id, action, seq);
CREATE INDEX IF NOT EXISTS tenantry_audit_events_targets ON "public"."tenantry_audit_events" USING gin (targets);

CREATE TABLE IF NOT EXISTS "public"."tenantry_audit_checkpoints" (
  chain       text   NOT NULL,
  seq         bigint NOT NULL,
  hash        text   NOT NULL,
  recorded_at bigint NOT NULL,
  signed_at   bigint NOT NULL,
  key_id      text   NOT NULL,
  signature   text   NOT NULL,
  PRIMARY KEY (chain, seq, key_id, signed_at)
);

CREATE OR REPLACE FUNCTION "public"."tenantry_audit_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  RAISE EXCEPTION 'tenantry audit tables are append-only: % refused on %', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$f$;

DROP TRIGGER IF EXISTS tenantry_audit_no_change ON "public"."tenantry_audit_events";
CREATE TRIGGER tenantry_audit_no_change BEFORE UPDATE OR DELETE ON "public"."tenantry_audit_events"
  FOR EACH ROW EXECUTE FUNCTION "public"."tenantry_audit_refuse_change"();
DROP TRIGGER IF EXISTS tenantry_audit_no_truncate ON "public"."tenantry_audit_events";
CREATE TRIGGER tenantry_audit_no_truncate BEFORE TRUNCATE ON "public"."tenantry_audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "public"."tenantry_audit_refuse_change"();
DROP TRIGGER IF EXISTS tenantry_audit_no_change ON "public"."tenantry_audit_checkpoints";
CREATE TRIGGER tenantry_audit_no_change BEFORE UPDATE OR DELETE ON "public"."tenantry_audit_checkpoints"
  FOR EACH ROW EXECUTE FUNCTION "public"."tenantry_audit_refuse_change"();
DROP TRIGGER IF EXISTS tenantry_audit_no_truncate ON "public"."tenantry_audit_checkpoints";
CREATE TRIGGER tenantry_audit_no_truncate BEFORE TRUNCATE ON "public"."tenantry_audit_checkpoints"
  FOR EACH STATEMENT EXECUTE FUNCTION "public"."tenantry_audit_refuse_change"();

REVOKE UPDATE, DELETE, TRUNCATE ON "public"."tenantry_audit_events", "public"."tenantry_audit_checkpoints" FROM PUBLIC;

-- Monthly partitions of store time. SECURITY DEFINER so the application role (which must not own
-- the table) can create the partition it is about to write to. Each partition gets a UNIQUE
-- (tenant_id, seq) index (a partitioned table cannot have one without the partition key) and its
-- own TRUNCATE trigger (statement triggers are not inherited by partitions).
CREATE OR REPLACE FUNCTION "public"."tenantry_audit_ensure_partitions"(from_time timestamptz, months integer DEFAULT 2)
  RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
  start_month timestamptz := date_trunc('month', from_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  lo timestamptz;
  hi timestamptz;
  part text;
  created integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('public.tenantry_audit.partitions'));
  FOR i IN 0 .. greatest(months, 1) - 1 LOOP
    lo := start_month + make_interval(months => i);
    hi := start_month + make_interval(months => i + 1);
    part := 'tenantry_audit_events_' || to_char(lo AT TIME ZONE 'UTC', 'YYYYMM');
    IF to_regclass(format('%I.%I', 'public', part)) IS NULL THEN
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF "public"."tenantry_audit_events" FOR VALUES FROM (%s) TO (%s)',
        'public', part, (extract(epoch FROM lo) * 1000000)::bigint, (extract(epoch FROM hi) * 1000000)::bigint);
      EXECUTE format('CREATE UNIQUE INDEX %I ON %I.%I (tenant_id, seq)', part || '_seq_key', 'public', part);
      EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION "public"."tenantry_audit_refuse_change"()',
        'tenantry_audit_no_truncate', 'public', part);
      EXECUTE format('REVOKE ALL ON %I.%I FROM PUBLIC', 'public', part);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END
$f$;
REVOKE ALL ON FUNCTION "public"."tenantry_audit_ensure_partitions"(timestamptz, integer) FROM PUBLIC;
SELECT "public"."tenantry_audit_ensure_partitions"(now(), 3);
