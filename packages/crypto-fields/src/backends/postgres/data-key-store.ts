import { type PgPoolLike, parseInput } from '@tenantry/core';
import { z } from 'zod';
import {
  type DataKeyRecord,
  type DataKeyStore,
  checkKekId,
  checkStoreArgs,
  checkStoreRecord,
  checkWrapped,
} from '../../data-key-store.js';
import { CryptoFieldsError } from '../../errors.js';
import type { DataKeyPurpose } from '../../key-provider.js';
import { storeError } from './errors.js';
import { DEFAULT_DATA_KEYS_TABLE, PostgresTableNameSchema, quoteTable } from './schema.js';

/** Options of {@link PostgresDataKeyStore} (besides the pool). */
export const PostgresDataKeyStoreOptionsSchema = z.object({
  /** Table name, optionally schema-qualified. @default 'tenantry_crypto_data_keys' */
  table: PostgresTableNameSchema.optional(),
});

/** Options of {@link PostgresDataKeyStore}. */
export interface PostgresDataKeyStoreOptions {
  /** Your `pg` Pool (transactions check out a client); the store does not close it. */
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
 * Create the table with `runMigrations(pool, cryptoFieldsMigrations)`.
 * Driver errors come out as `CRYPTO_NOT_MIGRATED`, `CRYPTO_STORE_UNAVAILABLE` or `CRYPTO_KEY_STORE_FAILED`
 * (the driver error as `cause`).
 * @example const store = new PostgresDataKeyStore({ pool });
 */
export class PostgresDataKeyStore implements DataKeyStore {
  readonly name = 'postgres';
  readonly #pool: PgPoolLike;
  readonly #t: string;

  constructor(options: PostgresDataKeyStoreOptions) {
    if (typeof options !== 'object' || options === null || typeof options.pool?.query !== 'function') {
      parseInput(
        z.object({ pool: z.custom<PgPoolLike>((p) => typeof (p as PgPoolLike)?.query === 'function') }),
        options,
        'postgres data key store options',
      );
    }
    const o = parseInput(
      PostgresDataKeyStoreOptionsSchema,
      { table: options.table },
      'postgres data key store options',
    );
    this.#pool = options.pool;
    this.#t = quoteTable(o.table ?? DEFAULT_DATA_KEYS_TABLE, 'data keys table').quoted;
  }

  async #query<R>(
    operation: string,
    sql: string,
    params: unknown[],
  ): Promise<{ rows: R[]; rowCount?: number | null }> {
    try {
      return await this.#pool.query<R>(sql, params);
    } catch (error) {
      throw storeError(error, operation);
    }
  }

  async createPrimaryIfAbsent(r: DataKeyRecord): Promise<DataKeyRecord> {
    r = checkStoreRecord(r);
    await this.#query(
      'createPrimaryIfAbsent',
      `INSERT INTO ${this.#t} (${COLS}) VALUES ($1, $2, $3, $4, $5, true, $6)
       ON CONFLICT (tenant_id, purpose) WHERE is_primary DO NOTHING`,
      [r.tenantId, r.keyId, r.purpose, r.kekId, r.wrappedKey, r.createdAt],
    );
    const now = await this.getPrimary(r.tenantId, r.purpose);
    if (now === null) {
      throw new CryptoFieldsError('CRYPTO_KEY_STORE_FAILED', 'No primary data key after insert');
    }
    return now;
  }

  async promote(r: DataKeyRecord): Promise<void> {
    r = checkStoreRecord(r);
    let client: Awaited<ReturnType<PgPoolLike['connect']>>;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw storeError(error, 'promote');
    }
    // A connection that dies while checked out (a terminated backend, a pooler's 08P01 `server conn
    // crashed?`) emits 'error' on the client, which would crash the host without a listener; the
    // failing query reports it.
    const events = client as unknown as ClientEvents;
    events.on?.('error', ignoreError);
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
      events.removeListener?.('error', ignoreError);
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      events.removeListener?.('error', ignoreError);
      client.release(error instanceof Error ? error : true);
      throw storeError(error, 'promote');
    }
  }

  async get(tenantId: string, keyId: string): Promise<DataKeyRecord | null> {
    checkStoreArgs(tenantId, keyId);
    const { rows } = await this.#query<Row>(
      'get',
      `SELECT ${COLS} FROM ${this.#t} WHERE tenant_id = $1 AND key_id = $2`,
      [tenantId, keyId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async getPrimary(tenantId: string, purpose: DataKeyPurpose): Promise<DataKeyRecord | null> {
    checkStoreArgs(tenantId, undefined, purpose);
    const { rows } = await this.#query<Row>(
      'getPrimary',
      `SELECT ${COLS} FROM ${this.#t} WHERE tenant_id = $1 AND purpose = $2 AND is_primary`,
      [tenantId, purpose],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(tenantId: string): Promise<DataKeyRecord[]> {
    checkStoreArgs(tenantId);
    const { rows } = await this.#query<Row>(
      'list',
      `SELECT ${COLS} FROM ${this.#t} WHERE tenant_id = $1 ORDER BY created_at, key_id`,
      [tenantId],
    );
    return rows.map(toRecord);
  }

  async tenantsNotWrappedBy(kekId: string): Promise<string[]> {
    checkKekId(kekId);
    const { rows } = await this.#query<{ tenant_id: string }>(
      'tenantsNotWrappedBy',
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
    checkStoreArgs(tenantId, keyId);
    checkKekId(expectedKekId);
    checkWrapped(wrapped);
    const res = await this.#query(
      'rewrap',
      `UPDATE ${this.#t} SET kek_id = $4, wrapped_key = $5 WHERE tenant_id = $1 AND key_id = $2 AND kek_id = $3`,
      [tenantId, keyId, expectedKekId, wrapped.kekId, wrapped.wrappedKey],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async deleteKey(tenantId: string, keyId: string): Promise<boolean> {
    checkStoreArgs(tenantId, keyId);
    const res = await this.#query(
      'deleteKey',
      `DELETE FROM ${this.#t} WHERE tenant_id = $1 AND key_id = $2 AND NOT is_primary`,
      [tenantId, keyId],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async deleteTenant(tenantId: string): Promise<number> {
    checkStoreArgs(tenantId);
    const res = await this.#query('deleteTenant', `DELETE FROM ${this.#t} WHERE tenant_id = $1`, [tenantId]);
    return res.rowCount ?? 0;
  }
}

/** The listener methods of a `pg` client (an EventEmitter), when present. */
interface ClientEvents {
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}
const ignoreError = (): void => undefined;
