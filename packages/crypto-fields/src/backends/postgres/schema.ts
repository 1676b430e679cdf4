import { parseInput } from '@tenantry/core';
import { type Migration, quoteIdent } from '@tenantry/core/postgres';
import { z } from 'zod';

/** A table name, optionally schema-qualified: plain identifiers only (`[A-Za-z_][A-Za-z0-9_]*`, ≤ 63 bytes each). */
export const PostgresTableNameSchema = z
  .string()
  .regex(
    /^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/,
    'must be [schema.]table made of letters, digits and underscores',
  );

/** Default table of the wrapped data keys. */
export const DEFAULT_DATA_KEYS_TABLE = 'tenantry_crypto_data_keys';
/** Default table of the rotation checkpoints. */
export const DEFAULT_CHECKPOINTS_TABLE = 'tenantry_crypto_rotation_checkpoints';

/** Options of {@link cryptoFieldsSchemaSql}. */
export const CryptoFieldsSchemaOptionsSchema = z
  .object({
    /** @default 'tenantry_crypto_data_keys' */
    dataKeysTable: PostgresTableNameSchema.optional(),
    /** @default 'tenantry_crypto_rotation_checkpoints' */
    checkpointsTable: PostgresTableNameSchema.optional(),
  })
  .strict();
/** Input of {@link cryptoFieldsSchemaSql}. */
export type CryptoFieldsSchemaOptions = z.input<typeof CryptoFieldsSchemaOptionsSchema>;

/** Validate and quote a (optionally schema-qualified) table name with core's `quoteIdent`. @internal */
export function quoteTable(name: unknown, what: string): { raw: string; quoted: string } {
  const raw = parseInput(PostgresTableNameSchema, name, what);
  return { raw, quoted: raw.split('.').map(quoteIdent).join('.') };
}

/**
 * The DDL of the key store and the rotation checkpoints (idempotent). The data keys are keyed
 * `(tenant_id, key_id)`, tenant first so the table distributes by tenant; a partial unique index keeps
 * one primary per tenant and purpose. {@link cryptoFieldsMigrations} runs it with the default names;
 * with other names, wrap this SQL in your own migration.
 * @throws ValidationError `VALIDATION_FAILED` for a table name that is not a plain identifier
 * @example const sql = cryptoFieldsSchemaSql({ dataKeysTable: 'secrets.data_keys' });
 */
export function cryptoFieldsSchemaSql(options: CryptoFieldsSchemaOptions = {}): string {
  const o = parseInput(CryptoFieldsSchemaOptionsSchema, options, 'crypto-fields schema options');
  const keys = quoteTable(o.dataKeysTable ?? DEFAULT_DATA_KEYS_TABLE, 'data keys table');
  const cps = quoteTable(o.checkpointsTable ?? DEFAULT_CHECKPOINTS_TABLE, 'checkpoints table');
  const idx = quoteIdent(`${keys.raw.split('.').pop()}_one_primary`);
  return `CREATE TABLE IF NOT EXISTS ${keys.quoted} (
  tenant_id text NOT NULL,
  key_id text NOT NULL,
  purpose text NOT NULL CHECK (purpose IN ('encrypt', 'index')),
  kek_id text NOT NULL,
  wrapped_key text NOT NULL,
  is_primary boolean NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, key_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS ${idx} ON ${keys.quoted} (tenant_id, purpose) WHERE is_primary;
CREATE TABLE IF NOT EXISTS ${cps.quoted} (
  job_id text PRIMARY KEY,
  checkpoint jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);`;
}

/**
 * The key store and checkpoint tables (default names) as a versioned migration for core's
 * `runMigrations` (component `crypto-fields`).
 * @example await runMigrations(pool, [...coreModelMigrations, ...cryptoFieldsMigrations]);
 */
export const cryptoFieldsMigrations: readonly Migration[] = Object.freeze([
  {
    component: 'crypto-fields',
    version: 1,
    name: 'data keys and rotation checkpoints',
    sql: cryptoFieldsSchemaSql(),
  },
]);
