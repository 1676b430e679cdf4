-- @tenantry/audit migration 002 (schema public, prefix tenantry_audit): the database enforces the chain's shape
CREATE TABLE IF NOT EXISTS "public"."tenantry_audit_heads" (
  tenant_id   text   PRIMARY KEY,
  seq         bigint NOT NULL,
  hash        text   NOT NULL,
  recorded_at bigint NOT NULL
);
REVOKE ALL ON "public"."tenantry_audit_heads" FROM PUBLIC;
LOCK TABLE "public"."tenantry_audit_events" IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO "public"."tenantry_audit_heads" (tenant_id, seq, hash, recorded_at)
  SELECT DISTINCT ON (tenant_id) tenant_id, seq, hash, recorded_at FROM "public"."tenantry_audit_events" ORDER BY tenant_id, seq DESC
  ON CONFLICT (tenant_id) DO NOTHING;

CREATE OR REPLACE FUNCTION "public"."tenantry_audit_guard_chain"() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
  h record;
BEGIN
  SELECT seq, hash, recorded_at INTO h FROM "public"."tenantry_audit_heads" WHERE tenant_id = NEW.tenant_id FOR UPDATE;
  IF NOT FOUND THEN
    IF NEW.seq <> 1 OR NEW.prev_hash <> repeat('0', 64) THEN
      RAISE EXCEPTION 'tenantry audit chain: the first event of a chain must have seq 1 and the genesis prev_hash'
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    INSERT INTO "public"."tenantry_audit_heads" (tenant_id, seq, hash, recorded_at) VALUES (NEW.tenant_id, NEW.seq, NEW.hash, NEW.recorded_at);
  ELSE
    IF NEW.seq <> h.seq + 1 OR NEW.prev_hash <> h.hash OR NEW.recorded_at < h.recorded_at THEN
      RAISE EXCEPTION 'tenantry audit chain: an event must extend the head (seq head+1, prev_hash = head hash, store time not before it)'
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    UPDATE "public"."tenantry_audit_heads" SET seq = NEW.seq, hash = NEW.hash, recorded_at = NEW.recorded_at WHERE tenant_id = NEW.tenant_id;
  END IF;
  RETURN NEW;
END
$f$;
REVOKE ALL ON FUNCTION "public"."tenantry_audit_guard_chain"() FROM PUBLIC;

DROP TRIGGER IF EXISTS tenantry_audit_guard_chain ON "public"."tenantry_audit_events";
CREATE TRIGGER tenantry_audit_guard_chain BEFORE INSERT ON "public"."tenantry_audit_events"
  FOR EACH ROW EXECUTE FUNCTION "public"."tenantry_audit_guard_chain"();
