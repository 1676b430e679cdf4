import type { AuditPort, TenantDirectory } from '@tenantry/core';
import type { FieldCrypto } from '@tenantry/crypto-fields';
import {
  type CoverageReport,
  type CoveringModule,
  type Vault,
  checkCoverage,
  createModuleRegistry,
  createVault,
  directoryMaintenance,
} from '@tenantry/vault';
import { MemorySnapshotRecordStore, MemorySnapshotStorage } from '@tenantry/vault/memory';
import type pg from 'pg';
import type { AppConfig } from './config.js';
import { TENANT_TABLES, inTransaction } from './schema.js';

/**
 * Where `@tenantry/vault` plugs in: per-tenant snapshots, restore (under the tenant's maintenance
 * mode), the GDPR export, and the coverage check of the app's tables. One module per app table; a
 * record is the row as JSON without trusting its tenant column (the import writes the tenant being
 * restored). Snapshots are kept in memory here (`MemorySnapshotStorage`): the S3 driver
 * (`@tenantry/vault/s3`, with the S3_* settings) is the production path and is not wired.
 */
export interface VaultSlot {
  readonly available: boolean;
  readonly reason: string | undefined;
  /** The tenant-scoped tables the vault's modules must cover. */
  readonly tenantTables: readonly string[];
  readonly vault: Vault;
  /** Where GDPR exports are written (`<prefix>/<module>.jsonl`). */
  readonly exports: MemorySnapshotStorage;
  /** V5: tables holding tenant rows that no module exports (Tenantry's own `tenantry_*` tables are ignored). */
  coverage(): Promise<CoverageReport>;
}

/** Which app table depends on which (cleaned in reverse, imported in order). */
const DEPENDS_ON: Record<(typeof TENANT_TABLES)[number], string[]> = {
  app_customers: [],
  app_documents: ['app_customers'],
  app_tenant_settings: [],
  app_notifications: [],
  app_email_outbox: ['app_documents'],
};

function tableModule(pool: pg.Pool, table: (typeof TENANT_TABLES)[number]): CoveringModule {
  const decode = (r: Uint8Array) => JSON.parse(Buffer.from(r).toString('utf8')) as Record<string, unknown>;
  return {
    name: table,
    schemaVersion: 1,
    dependsOn: DEPENDS_ON[table],
    covers: { postgres: [`public.${table}`] },
    async *export({ tenantId }) {
      const r = await pool.query(`SELECT row_to_json(t)::text AS j FROM ${table} t WHERE tenant_id = $1`, [
        tenantId,
      ]);
      for (const row of r.rows) yield Buffer.from(row.j as string);
    },
    // Records are read first, then written in one transaction of their own: on PGlite the pool has one
    // connection, which must not be held while the snapshot stream decrypts (the key store uses it).
    async import({ tenantId }, records) {
      const rows: string[] = [];
      for await (const r of records) rows.push(JSON.stringify({ ...decode(r), tenant_id: tenantId }));
      await inTransaction(pool, async (tx) => {
        for (const row of rows) {
          await tx.query(
            `INSERT INTO ${table} SELECT * FROM json_populate_record(NULL::${table}, $1::json)`,
            [row],
          );
        }
      });
    },
    async clean({ tenantId }) {
      await pool.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
    },
    toJson: decode,
  };
}

export function createVaultSlot(deps: {
  pool: pg.Pool;
  config: AppConfig;
  fields: FieldCrypto;
  audit: AuditPort;
  directory: TenantDirectory;
}): VaultSlot {
  const registry = createModuleRegistry(TENANT_TABLES.map((t) => tableModule(deps.pool, t)));
  const vault = createVault({
    registry,
    storage: new MemorySnapshotStorage(),
    records: new MemorySnapshotRecordStore(),
    crypto: deps.fields,
    audit: deps.audit,
    maintenance: directoryMaintenance(deps.directory),
  });
  return {
    available: true,
    reason: undefined,
    tenantTables: TENANT_TABLES,
    vault,
    exports: new MemorySnapshotStorage(),
    // Ignored on purpose: Tenantry's own bookkeeping (`tenantry_*`: audit chains are append-only and
    // never rolled back, counters, approvals) and `app_users` (sign-in identities, not tenant data: a
    // restore must not bring back a removed user's password).
    coverage: () =>
      checkCoverage({
        registry,
        postgres: { pool: deps.pool, schemas: ['public'] },
        ignore: ['tenantry_*', 'app_users'],
      }),
  };
}
