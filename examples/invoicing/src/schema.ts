import { TenantryError } from '@tenantry/core';
import {
  type Migration,
  coreModelMigrations,
  coreQuotaMigrations,
  runMigrations,
  tenantTableSql,
} from '@tenantry/core/postgres';
import { approvalsMigrations } from '@tenantry/approvals/postgres';
import { auditGrantsSql, auditMigrations } from '@tenantry/audit/postgres';
import { cryptoFieldsMigrations } from '@tenantry/crypto-fields/postgres';
import { sequencerMigrations } from '@tenantry/sequencer/postgres';
import { vaultMigrations } from '@tenantry/vault/postgres';
import type pg from 'pg';

/** Tenant-scoped tables of the app (row-level security, the vault's modules and its coverage check). */
export const TENANT_TABLES = [
  'app_customers',
  'app_documents',
  'app_tenant_settings',
  'app_notifications',
  'app_email_outbox',
] as const;

/**
 * The non-superuser role the app's tenant-scoped work runs as (NOSUPERUSER NOBYPASSRLS, not the
 * tables' owner), so row-level security applies to it. Created NOLOGIN by the migrations: the app
 * reaches it with `SET ROLE` on every checkout, or a deployment gives it a LOGIN role of its own
 * (`DATABASE_APP_URL`) that is a member of it.
 */
export const APP_ROLE = 'invoicing_app';

/**
 * Migration 2: row-level security on every tenant table of the app (core's `tenantTableSql`: enabled
 * and forced, the `tenant_isolation` policy on `app.tenant_id`, tenant-first keys and composite
 * foreign keys). Run as the connecting, privileged user (the tables' owner).
 */
export function appRlsSql(): string {
  return [
    ...tenantTableSql({ table: 'app_customers' }),
    // Its customer key is already composite (tenant_id, customer_id).
    ...tenantTableSql({ table: 'app_documents' }),
    // One row per tenant: no id column of its own.
    ...tenantTableSql({ table: 'app_tenant_settings', idColumn: null }),
    ...tenantTableSql({ table: 'app_notifications' }),
    ...tenantTableSql({
      table: 'app_email_outbox',
      foreignKeys: [{ columns: ['document_id'], references: 'app_documents' }],
    }),
  ].join(';\n');
}

/**
 * The application role and its grants: the app's tenant tables (under row-level security), and the
 * Tenantry tables the tenant's units write in their own transaction (sequencer counters, approval
 * requests and policies, the audit chain through `auditGrantsSql`). Nothing on the platform tables
 * (tenants, partners, users, keys, quotas). Roles are global to the server, so the role is created
 * only if missing (databases of one server share it).
 */
export function appRoleSql(): string {
  return `DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
    CREATE ROLE ${APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- another database of this server created it at the same moment
END $$;
-- The migrating user must be able to SET ROLE to it (a no-op for a superuser).
DO $$ BEGIN
  EXECUTE format('GRANT ${APP_ROLE} TO %I', current_user);
END $$;
GRANT USAGE ON SCHEMA public TO ${APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON ${TENANT_TABLES.join(', ')} TO ${APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON tenantry_sequencer_counters, tenantry_sequencer_voids TO ${APP_ROLE};
GRANT USAGE, SELECT, UPDATE ON SEQUENCE tenantry_sequencer_fence TO ${APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON tenantry_approval_requests, tenantry_approval_policies TO ${APP_ROLE};
${auditGrantsSql(APP_ROLE)}`;
}

/**
 * Applied after {@link allMigrations} (a second `runMigrations`): `runMigrations` orders migrations
 * by component name, and these grant on every package's tables, which must exist first.
 */
export const appRoleMigrations: readonly Migration[] = [
  {
    component: 'invoicing-app-role',
    version: 1,
    name: 'application role invoicing_app and its grants',
    sql: appRoleSql(),
  },
];

/**
 * The app's own tables. Every tenant-scoped table is keyed tenant first (so it can be distributed by
 * tenant), and documents carry the sequencer's key as a unique constraint.
 */
export const invoicingMigrations: readonly Migration[] = [
  {
    component: 'invoicing-app',
    version: 1,
    name: 'users, customers, documents, tenant settings, notifications, email outbox',
    sql: `
CREATE TABLE app_users (
  id text PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  tenant_id text REFERENCES tenantry_tenants (id),
  partner_id text REFERENCES tenantry_partners (id),
  roles text[] NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_users_tenant ON app_users (tenant_id);
CREATE TABLE app_customers (
  tenant_id text NOT NULL REFERENCES tenantry_tenants (id),
  id text NOT NULL,
  name text NOT NULL,
  email text,
  status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'PENDING_DELETION', 'DELETED')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE app_documents (
  tenant_id text NOT NULL REFERENCES tenantry_tenants (id),
  id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('INVOICE', 'CREDIT_NOTE')),
  series text NOT NULL,
  period text NOT NULL,
  number bigint NOT NULL,
  code text NOT NULL,
  customer_id text NOT NULL,
  issue_date date NOT NULL,
  amount_cents bigint NOT NULL,
  currency text NOT NULL DEFAULT 'EUR',
  status text NOT NULL CHECK (status IN ('ISSUED', 'PENDING_VOID', 'VOID')),
  credits_document_id text,
  void_reason text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, series, period, number),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES app_customers (tenant_id, id)
);
CREATE TABLE app_tenant_settings (
  tenant_id text PRIMARY KEY REFERENCES tenantry_tenants (id),
  providers jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE app_notifications (
  tenant_id text NOT NULL REFERENCES tenantry_tenants (id),
  id text NOT NULL,
  kind text NOT NULL,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE app_email_outbox (
  tenant_id text NOT NULL REFERENCES tenantry_tenants (id),
  id text NOT NULL,
  document_id text NOT NULL,
  recipient text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);`,
  },
  {
    component: 'invoicing-app',
    version: 2,
    name: 'row-level security on the tenant tables',
    sql: appRlsSql(),
  },
];

/** Every package's migrations, then the app's, applied at start (each once, under an advisory lock). */
export const allMigrations: readonly Migration[] = [
  ...coreModelMigrations,
  ...coreQuotaMigrations,
  ...sequencerMigrations,
  ...auditMigrations,
  ...approvalsMigrations,
  ...cryptoFieldsMigrations,
  ...vaultMigrations,
  ...invoicingMigrations,
];

export async function migrate(pool: pg.Pool): Promise<void> {
  await runMigrations(pool, allMigrations);
  await runMigrations(pool, appRoleMigrations);
}

/** Run `fn` in one transaction on one connection of `pool`. */
export async function inTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    // A statement that failed inside `fn` with its error caught there makes COMMIT roll back.
    const commit = (await client.query('COMMIT')) as { command?: string };
    if (commit.command !== undefined && commit.command !== 'COMMIT') {
      throw new TenantryError('UNIT_OF_WORK_ROLLED_BACK', 'The transaction was rolled back at COMMIT');
    }
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((e: Error) => {
      broken = e;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
