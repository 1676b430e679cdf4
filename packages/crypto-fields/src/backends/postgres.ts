import type { PgPoolLike, PgQueryable } from '@tenantry/core';
import type { DataKeyRecord, DataKeyStore } from '../data-key-store.js';
import { CryptoFieldsError } from '../errors.js';
import type { DataKeyPurpose } from '../key-provider.js';
import type { CheckpointStore, RotationCheckpoint } from '../rotation.js';
import { quoteIdent } from './sql.js';

/** Options of {@link PgDataKeyStore}. */
export interface PgDataKeyStoreOptions {
  /** A `pg` Pool (transactions check out a client). */
  pool: PgPoolLike;
  /** Table name, optionally schema-qualified. @default 'tenantry_crypto_data_keys' */
  table?: string;
}

interface Row {
  tenant_id: string;
  key_id: string;
  purpose: DataKeyPurpose;
  kek_id: string;
  wrapped_key: string;
  is_primary: boolean;
  created_at: Date;
}

const COLS = 'tenant_id, key_id, purpose, kek_id, wrapped_key, is_primary, created_at';
const toRecord = (r: Row): DataKeyRecord => ({
  tenantId: r.tenant_id,
  keyId: r.key_id,
  purpose: r.purpose,
  kekId: r.kek_id,
  wrappedKey: r.wrapped_key,
  primary: r.is_primary,
  createdAt: new Date(r.created_at),
});

/**
 * {@link DataKeyStore} in PostgreSQL. One row per wrapped data key, keyed `(tenant_id, key_id)`
 * (tenant first, so the table distributes by tenant); a partial unique index guarantees one primary per
 * tenant and purpose across processes; `promote` runs in a transaction under a per-tenant advisory
 * transaction lock (transaction-local: safe behind PgBouncer in transaction mode).
 * Create the table with {@link PgDataKeyStore.schemaSql} in a migration, or `ensureSchema()`.
 * @example const store = new PgDataKeyStore({ pool }); await store.ensureSchema();
 */
export class PgDataKeyStore implements DataKeyStore {
  readonly name = 'postgres';
  readonly #pool: PgPoolLike;
  readonly #t: string;
  readonly #table: string;

  constructor(options: PgDataKeyStoreOptions) {
    this.#pool = options.pool;
    this.#table = options.table ?? 'tenantry_crypto_data_keys';
    this.#t = quoteIdent(this.#table);
  }

  /** DDL of the table and its indexes (idempotent). */
  schemaSql(): string {
    const idx = quoteIdent(`${this.#table.split('.').pop()}_one_primary`);
    return `CREATE TABLE IF NOT EXISTS ${this.#t} (
  tenant_id text NOT NULL,
  key_id text NOT NULL,
  purpose text NOT NULL CHECK (purpose IN ('encrypt', 'index')),
  kek_id text NOT NULL,
  wrapped_key text NOT NULL,
  is_primary boolean NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, key_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS ${idx} ON ${this.#t} (tenant_id, purpose) WHERE is_primary;`;
  }

  /** Run {@link schemaSql}. Prefer running it from your migrations. */
  async ensureSchema(): Promise<void> {
    await this.#pool.query(this.schemaSql());
  }

  async createPrimaryIfAbsent(r: DataKeyRecord): Promise<DataKeyRecord> {
    await this.#pool.query(
      `INSERT INTO ${this.#t} (${COLS}) VALUES ($1, $2, $3, $4, $5, true, $6)
       ON CONFLICT (tenant_id, purpose) WHERE is_primary DO NOTHING`,
      [r.tenantId, r.keyId, r.purpose, r.kekId, r.wrappedKey, r.createdAt],
    );
    const now = await this.getPrimary(r.tenantId, r.purpose);
    if (now === null) throw new CryptoFieldsError('KEY_STORE_FAILED', 'No primary data key after insert');
    return now;
  }

  async promote(r: DataKeyRecord): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7327))', [
        `tenantry-crypto:${r.tenantId}:${r.purpose}`,
      ]);
      await client.query(
        `UPDATE ${this.#t} SET is_primary = false WHERE tenant_id = $1 AND purpose = $2 AND is_primary`,
        [r.tenantId, r.purpose],
      );
      await client.query(`INSERT INTO ${this.#t} (${COLS}) VALUES ($1, $2, $3, $4, $5, true, $6)`, [
        r.tenantId,
        r.keyId,
        r.purpose,
        r.kekId,
        r.wrappedKey,
        r.createdAt,
      ]);
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  async get(tenantId: string, keyId: string): Promise<DataKeyRecord | null> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${COLS} FROM ${this.#t} WHERE tenant_id = $1 AND key_id = $2`,
      [tenantId, keyId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async getPrimary(tenantId: string, purpose: DataKeyPurpose): Promise<DataKeyRecord | null> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${COLS} FROM ${this.#t} WHERE tenant_id = $1 AND purpose = $2 AND is_primary`,
      [tenantId, purpose],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(tenantId: string): Promise<DataKeyRecord[]> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${COLS} FROM ${this.#t} WHERE tenant_id = $1 ORDER BY created_at, key_id`,
      [tenantId],
    );
    return rows.map(toRecord);
  }

  async tenantsNotWrappedBy(kekId: string): Promise<string[]> {
    const { rows } = await this.#pool.query<{ tenant_id: string }>(
      `SELECT DISTINCT tenant_id FROM ${this.#t} WHERE kek_id <> $1 ORDER BY tenant_id`,
      [kekId],
    );
    return rows.map((r) => r.tenant_id);
  }

  async rewrap(
    tenantId: string,
    keyId: string,
    expectedKekId: string,
    wrapped: { kekId: string; wrappedKey: string },
  ): Promise<boolean> {
    const res = await this.#pool.query(
      `UPDATE ${this.#t} SET kek_id = $4, wrapped_key = $5 WHERE tenant_id = $1 AND key_id = $2 AND kek_id = $3`,
      [tenantId, keyId, expectedKekId, wrapped.kekId, wrapped.wrappedKey],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async deleteKey(tenantId: string, keyId: string): Promise<boolean> {
    const res = await this.#pool.query(
      `DELETE FROM ${this.#t} WHERE tenant_id = $1 AND key_id = $2 AND NOT is_primary`,
      [tenantId, keyId],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async deleteTenant(tenantId: string): Promise<number> {
    const res = await this.#pool.query(`DELETE FROM ${this.#t} WHERE tenant_id = $1`, [tenantId]);
    return res.rowCount ?? 0;
  }
}

/** Options of {@link PgCheckpointStore}. */
export interface PgCheckpointStoreOptions {
  db: PgQueryable;
  /** @default 'tenantry_crypto_rotation_checkpoints' */
  table?: string;
}

/** Rotation checkpoints in PostgreSQL (one row per job). */
export class PgCheckpointStore implements CheckpointStore {
  readonly name = 'postgres';
  readonly #db: PgQueryable;
  readonly #t: string;
  constructor(options: PgCheckpointStoreOptions) {
    this.#db = options.db;
    this.#t = quoteIdent(options.table ?? 'tenantry_crypto_rotation_checkpoints');
  }
  /** DDL of the table (idempotent). */
  schemaSql(): string {
    return `CREATE TABLE IF NOT EXISTS ${this.#t} (job_id text PRIMARY KEY, checkpoint jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());`;
  }
  /** Run {@link schemaSql}. Prefer running it from your migrations. */
  async ensureSchema(): Promise<void> {
    await this.#db.query(this.schemaSql());
  }
  async load(jobId: string): Promise<RotationCheckpoint | null> {
    const { rows } = await this.#db.query<{ checkpoint: RotationCheckpoint }>(
      `SELECT checkpoint FROM ${this.#t} WHERE job_id = $1`,
      [jobId],
    );
    return rows[0]?.checkpoint ?? null;
  }
  async save(jobId: string, checkpoint: RotationCheckpoint): Promise<void> {
    await this.#db.query(
      `INSERT INTO ${this.#t} (job_id, checkpoint, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (job_id) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()`,
      [jobId, JSON.stringify(checkpoint)],
    );
  }
  async clear(jobId: string): Promise<void> {
    await this.#db.query(`DELETE FROM ${this.#t} WHERE job_id = $1`, [jobId]);
  }
}
