import {
  type Migration,
  coreModelMigrations,
  coreQuotaMigrations,
  runMigrations,
} from '@tenantry/core/postgres';
import { approvalsMigrations } from '@tenantry/approvals/postgres';
import { auditMigrations } from '@tenantry/audit/postgres';
import { cryptoFieldsMigrations } from '@tenantry/crypto-fields/postgres';
import { sequencerMigrations } from '@tenantry/sequencer/postgres';
import { vaultMigrations } from '@tenantry/vault/postgres';
import type pg from 'pg';

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
];

/** Tenant-scoped tables of the app (for the vault's coverage check once the vault is wired). */
export const TENANT_TABLES = [
  'app_customers',
  'app_documents',
  'app_tenant_settings',
  'app_notifications',
  'app_email_outbox',
] as const;

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
}

/** Run `fn` in one transaction on one connection of `pool`. */
export async function inTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
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
