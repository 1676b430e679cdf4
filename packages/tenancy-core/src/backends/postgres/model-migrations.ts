import type { Migration } from '../../kernel/migrations.js';

/**
 * The tenancy model's PostgreSQL schema (component `core-model`), as versioned SQL. Tables use the
 * `tenantry_` prefix in the current schema. Apply with `runMigrations(pool, coreModelMigrations)`.
 */
export const coreModelMigrations: readonly Migration[] = Object.freeze([
  {
    component: 'core-model',
    version: 1,
    name: 'partners, tenants, plans, subscriptions, agreements, platform settings',
    sql: `
-- Ids use the "C" collation: byte order, as in memory and MongoDB, and index-friendly keyset paging.
CREATE TABLE tenantry_partners (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('RESELLER', 'REGIONAL_OPERATOR')),
  attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL
);
CREATE TABLE tenantry_tenants (
  id text COLLATE "C" PRIMARY KEY,
  partner_id text COLLATE "C" REFERENCES tenantry_partners (id),
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('PROVISIONING', 'ACTIVE', 'SUSPENDED', 'ARCHIVED')),
  isolation jsonb NOT NULL,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  maintenance boolean NOT NULL DEFAULT false,
  version integer NOT NULL CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  status_changed_at timestamptz NOT NULL
);
CREATE INDEX tenantry_tenants_partner_idx ON tenantry_tenants (partner_id, id);
CREATE TABLE tenantry_plans (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  quotas jsonb NOT NULL DEFAULT '{}'::jsonb,
  features jsonb NOT NULL DEFAULT '{}'::jsonb,
  version integer NOT NULL CHECK (version >= 1),
  updated_at timestamptz NOT NULL
);
CREATE TABLE tenantry_subscriptions (
  id text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL REFERENCES tenantry_tenants (id),
  plan_id text COLLATE "C" NOT NULL REFERENCES tenantry_plans (id),
  status text NOT NULL CHECK (status IN ('TRIAL', 'ACTIVE', 'PAST_DUE', 'CANCELED')),
  period_ends_at timestamptz,
  version integer NOT NULL CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX tenantry_subscriptions_one_live ON tenantry_subscriptions (tenant_id) WHERE status <> 'CANCELED';
CREATE INDEX tenantry_subscriptions_tenant_idx ON tenantry_subscriptions (tenant_id, created_at DESC);
CREATE TABLE tenantry_agreements (
  tenant_id text COLLATE "C" NOT NULL REFERENCES tenantry_tenants (id),
  user_id text NOT NULL,
  document text NOT NULL,
  version text NOT NULL,
  accepted_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, user_id, document, version)
);
CREATE INDEX tenantry_agreements_latest_idx ON tenantry_agreements (tenant_id, user_id, document, accepted_at DESC);
CREATE TABLE tenantry_platform_settings (
  id text PRIMARY KEY CHECK (id = 'global'),
  "values" jsonb NOT NULL DEFAULT '{}'::jsonb,
  maintenance boolean NOT NULL DEFAULT false,
  version integer NOT NULL CHECK (version >= 1),
  updated_at timestamptz NOT NULL
);
`,
  },
  {
    component: 'core-model',
    version: 2,
    name: 'database-level guard of the tenant and subscription state machines',
    sql: `
CREATE FUNCTION tenantry_guard_lifecycle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE allowed text[];
BEGIN
  IF NEW.status = OLD.status THEN RETURN NEW; END IF;
  IF TG_TABLE_NAME = 'tenantry_tenants' THEN
    allowed := CASE OLD.status
      WHEN 'PROVISIONING' THEN ARRAY['ACTIVE']
      WHEN 'ACTIVE' THEN ARRAY['SUSPENDED']
      WHEN 'SUSPENDED' THEN ARRAY['ACTIVE', 'ARCHIVED']
      ELSE ARRAY[]::text[] END;
  ELSE
    allowed := CASE OLD.status
      WHEN 'TRIAL' THEN ARRAY['ACTIVE', 'PAST_DUE', 'CANCELED']
      WHEN 'ACTIVE' THEN ARRAY['PAST_DUE', 'CANCELED']
      WHEN 'PAST_DUE' THEN ARRAY['ACTIVE', 'CANCELED']
      ELSE ARRAY[]::text[] END;
  END IF;
  IF NOT (NEW.status = ANY (allowed)) THEN
    RAISE EXCEPTION 'tenantry: illegal % transition % -> %', TG_TABLE_NAME, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER tenantry_tenants_lifecycle BEFORE UPDATE OF status ON tenantry_tenants
  FOR EACH ROW EXECUTE FUNCTION tenantry_guard_lifecycle();
CREATE TRIGGER tenantry_subscriptions_lifecycle BEFORE UPDATE OF status ON tenantry_subscriptions
  FOR EACH ROW EXECUTE FUNCTION tenantry_guard_lifecycle();
`,
  },
  {
    component: 'core-model',
    version: 3,
    name: 'transactional cache invalidation: NOTIFY tenantry_config from every write',
    sql: `
CREATE FUNCTION tenantry_notify_config() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record; msg jsonb;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  -- IF, not CASE: a record's fields are resolved per statement, and each table has different ones.
  IF TG_TABLE_NAME = 'tenantry_tenants' THEN
    msg := jsonb_build_object('scope', 'tenant', 'id', r.id);
  ELSIF TG_TABLE_NAME = 'tenantry_plans' THEN
    msg := jsonb_build_object('scope', 'plan', 'id', r.id);
  ELSIF TG_TABLE_NAME = 'tenantry_platform_settings' THEN
    msg := jsonb_build_object('scope', 'global');
  ELSE
    msg := jsonb_build_object('scope', 'tenant', 'id', r.tenant_id);
  END IF;
  PERFORM pg_notify('tenantry_config', msg::text);
  RETURN NULL;
END $$;
CREATE TRIGGER tenantry_tenants_notify AFTER INSERT OR UPDATE OR DELETE ON tenantry_tenants
  FOR EACH ROW EXECUTE FUNCTION tenantry_notify_config();
CREATE TRIGGER tenantry_plans_notify AFTER INSERT OR UPDATE OR DELETE ON tenantry_plans
  FOR EACH ROW EXECUTE FUNCTION tenantry_notify_config();
CREATE TRIGGER tenantry_platform_settings_notify AFTER INSERT OR UPDATE OR DELETE ON tenantry_platform_settings
  FOR EACH ROW EXECUTE FUNCTION tenantry_notify_config();
CREATE TRIGGER tenantry_subscriptions_notify AFTER INSERT OR UPDATE OR DELETE ON tenantry_subscriptions
  FOR EACH ROW EXECUTE FUNCTION tenantry_notify_config();
CREATE TRIGGER tenantry_agreements_notify AFTER INSERT OR UPDATE OR DELETE ON tenantry_agreements
  FOR EACH ROW EXECUTE FUNCTION tenantry_notify_config();
`,
  },
]);
