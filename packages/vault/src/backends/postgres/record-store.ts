import type { PgQueryable } from '@tenantry/core';
import { VaultError } from '../../errors.js';
import type { ModuleRegistry } from '../../registry.js';
import type { SnapshotListQuery, SnapshotRecord, SnapshotRecordStore } from '../../snapshot-record-store.js';
import { mapPgError } from './errors.js';
import { MODULES_TABLE, SNAPSHOTS_TABLE } from './schema.js';

/** Options of {@link PostgresSnapshotRecordStore}. */
export interface PostgresSnapshotRecordStoreOptions {
  /** Your `pg` Pool (or any {@link PgQueryable}); the table comes from `vaultMigrations`. */
  pool: PgQueryable;
}

interface Row {
  tenant_id: string;
  id: string;
  kind: 'snapshot' | 'safety';
  status: 'writing' | 'complete' | 'failed';
  checksum: string;
  size: string | number;
  created_by: string;
  created_at: Date;
}

const COLUMNS = 'tenant_id, id, kind, status, checksum, size, created_by, created_at';
const toRecord = (r: Row): SnapshotRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  kind: r.kind,
  status: r.status,
  checksum: r.checksum,
  size: Number(r.size),
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
});

async function q<R>(
  db: PgQueryable,
  sql: string,
  values: unknown[],
): Promise<{ rows: R[]; rowCount: number | null }> {
  try {
    return await db.query<R>(sql, values);
  } catch (error) {
    throw mapPgError(error, 'records');
  }
}

/**
 * {@link SnapshotRecordStore} on PostgreSQL (`tenantry_vault_snapshots`, from `vaultMigrations`).
 * Every statement names the tenant; another tenant's records are never returned.
 * @example const records = new PostgresSnapshotRecordStore({ pool });
 */
export class PostgresSnapshotRecordStore implements SnapshotRecordStore {
  readonly #db: PgQueryable;
  constructor(options: PostgresSnapshotRecordStoreOptions) {
    if (typeof options?.pool?.query !== 'function') {
      throw new VaultError(
        'VAULT_CONFIG_INVALID',
        'PostgresSnapshotRecordStore needs { pool } with a query function',
      );
    }
    this.#db = options.pool;
  }

  async insert(r: SnapshotRecord): Promise<void> {
    try {
      await this.#db.query(
        `INSERT INTO ${SNAPSHOTS_TABLE} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [r.tenantId, r.id, r.kind, r.status, r.checksum, r.size, r.createdBy, r.createdAt],
      );
    } catch (error) {
      if ((error as { code?: unknown }).code === '23505') {
        throw new VaultError('VAULT_SNAPSHOT_EXISTS', 'A snapshot record with that id exists', {
          cause: error,
          details: { snapshotId: r.id },
        });
      }
      throw mapPgError(error, 'records');
    }
  }

  async finish(
    tenantId: string,
    id: string,
    patch: { status: 'complete' | 'failed'; checksum: string; size: number },
  ): Promise<boolean> {
    const r = await q(
      this.#db,
      `UPDATE ${SNAPSHOTS_TABLE} SET status = $3, checksum = $4, size = $5 WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, patch.status, patch.checksum, patch.size],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async get(tenantId: string, id: string): Promise<SnapshotRecord | null> {
    const r = await q<Row>(
      this.#db,
      `SELECT ${COLUMNS} FROM ${SNAPSHOTS_TABLE} WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return r.rows[0] ? toRecord(r.rows[0]) : null;
  }

  async list(tenantId: string, query: SnapshotListQuery = {}): Promise<SnapshotRecord[]> {
    const r = await q<Row>(
      this.#db,
      `SELECT ${COLUMNS} FROM ${SNAPSHOTS_TABLE}
        WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2) AND ($3::text IS NULL OR status = $3)
          AND ($5::text IS NULL OR kind = $5)
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [tenantId, query.before ?? null, query.status ?? null, query.limit ?? null, query.kind ?? null],
    );
    return r.rows.map(toRecord);
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const r = await q(this.#db, `DELETE FROM ${SNAPSHOTS_TABLE} WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      id,
    ]);
    return (r.rowCount ?? 0) > 0;
  }
}

/**
 * Records the registry in `tenantry_vault_modules` (name, schema version, dependencies, declaration
 * checksum), replacing older rows of the same names, so an operator can see which versions are live.
 * Platform-level data (no tenant).
 * @throws VaultError `VAULT_NOT_MIGRATED`, `VAULT_STORE_UNAVAILABLE`
 * @example await recordModules(pool, registry);
 */
export async function recordModules(pool: PgQueryable, registry: ModuleRegistry): Promise<number> {
  if (typeof pool?.query !== 'function' || typeof registry?.declarations !== 'function') {
    throw new VaultError('VAULT_CONFIG_INVALID', 'recordModules needs a pool and a module registry');
  }
  const now = new Date();
  for (const d of registry.declarations()) {
    await q(
      pool,
      `INSERT INTO ${MODULES_TABLE} (name, schema_version, depends_on, checksum, recorded_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET schema_version = EXCLUDED.schema_version, depends_on = EXCLUDED.depends_on,
         checksum = EXCLUDED.checksum, recorded_at = EXCLUDED.recorded_at`,
      [d.name, d.schemaVersion, [...d.dependsOn], d.checksum, now],
    );
  }
  return registry.declarations().length;
}
