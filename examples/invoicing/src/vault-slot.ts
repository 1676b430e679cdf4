import { join } from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { AuditPort, TenantDirectory } from '@tenantry/core';
import type { TenantUnitOfWork } from '@tenantry/core/postgres';
import type { FieldCrypto } from '@tenantry/crypto-fields';
import {
  type CoverageReport,
  type CoveringModule,
  type SnapshotRecordStore,
  type SnapshotStorage,
  type Vault,
  checkCoverage,
  createModuleRegistry,
  createVault,
  directoryMaintenance,
} from '@tenantry/vault';
import { FileSystemSnapshotStorage } from '@tenantry/vault/fs';
import { MemorySnapshotStorage } from '@tenantry/vault/memory';
import { PostgresSnapshotRecordStore } from '@tenantry/vault/postgres';
import { S3SnapshotStorage } from '@tenantry/vault/s3';
import type pg from 'pg';
import type { AppConfig } from './config.js';
import { TENANT_TABLES } from './schema.js';

/**
 * Where `@tenantry/vault` plugs in: per-tenant snapshots, restore (under the tenant's maintenance
 * mode), the GDPR export, and the coverage check of the app's tables. One module per app table; a
 * record is the row as JSON without trusting its tenant column (the import writes the tenant being
 * restored). Snapshot objects go where {@link snapshotStorage} says (S3, a directory, or memory);
 * their index is `tenantry_vault_snapshots` in the app's database (`PostgresSnapshotRecordStore`, on
 * PGlite as on PostgreSQL), so it lives exactly as long as the database does; with `MONGO_URL`, the
 * collection of that name in MongoDB (`MongoSnapshotRecordStore`).
 */
export interface VaultSlot {
  readonly available: boolean;
  readonly reason: string | undefined;
  /** The tenant-scoped tables the vault's modules must cover. */
  readonly tenantTables: readonly string[];
  readonly vault: Vault;
  /** Where snapshot objects go: `s3` (S3_BUCKET), `fs` (DATA_DIR) or `memory`. */
  readonly storageKind: SnapshotStorageKind;
  /** Where GDPR exports are written (`<prefix>/<module>.jsonl`): the same store, under `exports/`. */
  readonly exports: SnapshotStorage;
  /** V5: tables holding tenant rows that no module exports (Tenantry's own `tenantry_*` tables are ignored). */
  coverage(): Promise<CoverageReport>;
  /** Release the S3 clients' sockets. */
  close(): void;
}

/** Which app table depends on which (cleaned in reverse, imported in order). */
const DEPENDS_ON: Record<(typeof TENANT_TABLES)[number], string[]> = {
  app_customers: [],
  app_documents: ['app_customers'],
  app_tenant_settings: [],
  app_notifications: [],
  app_email_outbox: ['app_documents'],
};

/** Each statement runs in a unit of work of the tenant being exported or restored (row-level security on). */
function tableModule(uow: TenantUnitOfWork, table: (typeof TENANT_TABLES)[number]): CoveringModule {
  const decode = (r: Uint8Array) => JSON.parse(Buffer.from(r).toString('utf8')) as Record<string, unknown>;
  return {
    name: table,
    schemaVersion: 1,
    dependsOn: DEPENDS_ON[table],
    covers: { postgres: [`public.${table}`] },
    async *export({ tenantId }) {
      const r = await uow.query(
        `SELECT row_to_json(t)::text AS j FROM ${table} t WHERE tenant_id = $1`,
        [tenantId],
        { tenantId, readOnly: true },
      );
      for (const row of r.rows) yield Buffer.from(row.j as string);
    },
    // Records are read first, then written in one transaction of their own: on PGlite the pool has one
    // connection, which must not be held while the snapshot stream decrypts (the key store uses it).
    async import({ tenantId }, records) {
      const rows: string[] = [];
      for await (const r of records) rows.push(JSON.stringify({ ...decode(r), tenant_id: tenantId }));
      await uow.run(
        async (tx) => {
          for (const row of rows) {
            await tx.query(
              `INSERT INTO ${table} SELECT * FROM json_populate_record(NULL::${table}, $1::json)`,
              [row],
            );
          }
        },
        { tenantId },
      );
    },
    async clean({ tenantId }) {
      await uow.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId], { tenantId });
    },
    toJson: decode,
  };
}

/**
 * The `S3Client` options for the configured store: a custom endpoint with path-style addressing only
 * when `S3_ENDPOINT` is set (AWS itself wants virtual-hosted addressing), explicit keys only when both
 * are set (else the SDK's default chain: environment, shared config, instance or task role).
 */
export function s3ClientConfig(s3: NonNullable<AppConfig['snapshots']>): S3ClientConfig {
  return {
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint, forcePathStyle: true } : {}),
    ...(s3.credentials ? { credentials: { ...s3.credentials } } : {}),
  };
}

/** Where snapshot objects are kept. */
export type SnapshotStorageKind = 's3' | 'fs' | 'memory';

/**
 * The snapshot store the configuration asks for, one per `area` (`snapshots`, `exports`): S3 when
 * `S3_BUCKET` is set (the bucket must exist; AWS S3 without `S3_ENDPOINT`, else that S3-compatible
 * store, path-style as MinIO and most of them need), else a directory under `DATA_DIR`, else memory. Memory is the
 * zero-config default only because the embedded database is then in memory too: a snapshot must not
 * outlive, nor be outlived by, the data and the index it belongs to.
 */
export function snapshotStorage(
  config: AppConfig,
  area: 'snapshots' | 'exports',
): { kind: SnapshotStorageKind; storage: SnapshotStorage; close(): void } {
  const s3 = config.snapshots;
  if (s3) {
    const client = new S3Client(s3ClientConfig(s3));
    return {
      kind: 's3',
      storage: new S3SnapshotStorage({ client, bucket: s3.bucket, prefix: `${area}/` }),
      close: () => client.destroy(),
    };
  }
  if (config.dataDir) {
    return {
      kind: 'fs',
      storage: new FileSystemSnapshotStorage({ root: join(config.dataDir, area) }),
      close: () => undefined,
    };
  }
  return { kind: 'memory', storage: new MemorySnapshotStorage(), close: () => undefined };
}

export function createVaultSlot(deps: {
  /** Privileged: the snapshot index and the coverage check (which must see every tenant's rows). */
  pool: pg.Pool;
  /** The tenant units the table modules run in. */
  uow: TenantUnitOfWork;
  config: AppConfig;
  fields: FieldCrypto;
  audit: AuditPort;
  directory: TenantDirectory;
  /** The snapshot index; default `PostgresSnapshotRecordStore` on `pool` (the Mongo variant passes its own). */
  records?: SnapshotRecordStore | undefined;
}): VaultSlot {
  const registry = createModuleRegistry(TENANT_TABLES.map((t) => tableModule(deps.uow, t)));
  const snapshots = snapshotStorage(deps.config, 'snapshots');
  const exports = snapshotStorage(deps.config, 'exports');
  const vault = createVault({
    registry,
    storage: snapshots.storage,
    records: deps.records ?? new PostgresSnapshotRecordStore({ pool: deps.pool }),
    crypto: deps.fields,
    audit: deps.audit,
    maintenance: directoryMaintenance(deps.directory),
  });
  return {
    available: true,
    reason: undefined,
    tenantTables: TENANT_TABLES,
    vault,
    storageKind: snapshots.kind,
    exports: exports.storage,
    // Ignored on purpose: Tenantry's own bookkeeping (`tenantry_*`: audit chains are append-only and
    // never rolled back, counters, approvals) and `app_users` (sign-in identities, not tenant data: a
    // restore must not bring back a removed user's password).
    coverage: () =>
      checkCoverage({
        registry,
        postgres: { pool: deps.pool, schemas: ['public'] },
        ignore: ['tenantry_*', 'app_users'],
      }),
    close() {
      snapshots.close();
      exports.close();
    },
  };
}
