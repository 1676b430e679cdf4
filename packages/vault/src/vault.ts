import {
  type AuditPort,
  type Clock,
  type Logger,
  TelemetryAttributes,
  createUuidV7Generator,
  noopAuditPort,
  noopLogger,
  parseInput,
  resolveTenantId,
  systemClock,
  withSpan,
} from '@tenantry/core';
import type { FieldCrypto } from '@tenantry/crypto-fields';
import { z } from 'zod';
import { currentActor } from './actor.js';
import { VaultError } from './errors.js';
import { type GdprExportReport, writeGdprExport } from './gdpr-export.js';
import type { Maintenance } from './maintenance.js';
import { ModuleNameSchema } from './module.js';
import type { ModuleRegistry } from './registry.js';
import { type RestoreReport, restoreSnapshot } from './restore.js';
import { type PruneReport, pruneSnapshots } from './retention.js';
import type { VaultRuntime } from './runtime.js';
import { DEFAULT_CHUNK_BYTES } from './snapshot/chunk-cipher.js';
import { CompressionSchema, zstdAvailable } from './snapshot/compression.js';
import { SnapshotIdSchema, type SnapshotManifest } from './snapshot/manifest.js';
import type { ProgressListener } from './snapshot/progress.js';
import { openSnapshot, verifyData } from './snapshot/reader.js';
import { writeSnapshot } from './snapshot/writer.js';
import type { SnapshotRecord, SnapshotRecordStore } from './snapshot-record-store.js';
import type { SnapshotStorage } from './storage/storage.js';

const hasMethods =
  (...names: string[]) =>
  (v: unknown): boolean =>
    typeof v === 'object' &&
    v !== null &&
    names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function');

/** Options of {@link createVault}. */
export interface VaultOptions {
  /** The host app's data modules. */
  registry: ModuleRegistry;
  /** Where snapshot objects go (`@tenantry/vault/memory`, the filesystem or S3 drivers). */
  storage: SnapshotStorage;
  /** The snapshot index (`tenantry_vault_snapshots`): memory, PostgreSQL or MongoDB. */
  records: SnapshotRecordStore;
  /** crypto-fields: each snapshot's key is sealed with the tenant's data key (crypto-shredding the tenant makes its snapshots unreadable). */
  crypto: FieldCrypto;
  /** Receives every restore step. @default noopAuditPort */
  audit?: AuditPort;
  /** Tenant maintenance mode during restores (e.g. `directoryMaintenance(directory)`); without it, the host must keep writers out. */
  maintenance?: Maintenance;
  /** @default 'gzip'; `'zstd'` needs Node 22.15+ (refused with `VAULT_FORMAT_UNSUPPORTED` otherwise). */
  compression?: 'gzip' | 'zstd' | 'none';
  /** Compressed bytes per encrypted chunk. @default 65536 */
  chunkBytes?: number;
  /** Prefix of every storage key, e.g. `'prod/'`. @default '' */
  keyPrefix?: string;
  clock?: Clock;
  logger?: Logger;
}

/** The serialisable and port parts of {@link VaultOptions}. */
export const VaultOptionsSchema = z.object({
  registry: z.custom<ModuleRegistry>(hasMethods('register', 'get', 'ordered'), 'must be a ModuleRegistry'),
  storage: z.custom<SnapshotStorage>(hasMethods('put', 'get', 'list', 'delete'), 'must be a SnapshotStorage'),
  records: z.custom<SnapshotRecordStore>(
    hasMethods('insert', 'finish', 'get', 'list', 'delete'),
    'must be a SnapshotRecordStore',
  ),
  crypto: z.custom<FieldCrypto>(hasMethods('seal', 'open', 'describe'), 'must be a FieldCrypto'),
  audit: z.custom<AuditPort>(hasMethods('record'), 'must be an AuditPort').optional(),
  maintenance: z.custom<Maintenance>(hasMethods('set'), 'must be a Maintenance').optional(),
  compression: CompressionSchema.default('gzip'),
  chunkBytes: z
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(DEFAULT_CHUNK_BYTES),
  keyPrefix: z
    .string()
    .max(512)
    .regex(/^(|[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/)$/, 'must be empty or path segments ending in /')
    .default(''),
  clock: z.custom<Clock>(hasMethods('now'), 'must be a Clock').optional(),
  logger: z.custom<Logger>(hasMethods('error', 'warn', 'info'), 'must be a Logger').optional(),
});

const SignalSchema = z
  .custom<AbortSignal>((v) => v instanceof AbortSignal, 'must be an AbortSignal')
  .optional();
const ProgressSchema = z
  .custom<ProgressListener>((v) => typeof v === 'function', 'must be a function')
  .optional();
const TenantOption = z.string().optional();

/** Input of {@link Vault.snapshot}. */
export const SnapshotInputSchema = z
  .object({
    tenantId: TenantOption,
    modules: z.array(ModuleNameSchema).min(1).max(10_000).optional(),
    signal: SignalSchema,
    onProgress: ProgressSchema,
  })
  .strict();
export type SnapshotInput = z.input<typeof SnapshotInputSchema>;

/** Input of {@link Vault.restore}: a snapshot id, or the latest complete snapshot before an instant. */
export const RestoreInputSchema = z
  .object({
    tenantId: TenantOption,
    snapshotId: SnapshotIdSchema.optional(),
    before: z.union([z.date(), z.iso.datetime({ offset: true })]).optional(),
    signal: SignalSchema,
    onProgress: ProgressSchema,
  })
  .strict()
  .refine(
    (v) => (v.snapshotId === undefined) !== (v.before === undefined),
    'give exactly one of snapshotId and before',
  );
export type RestoreInput = z.input<typeof RestoreInputSchema>;

/** Input of {@link Vault.verify}. */
export const VerifyInputSchema = z
  .object({
    tenantId: TenantOption,
    snapshotId: SnapshotIdSchema,
    signal: SignalSchema,
    onProgress: ProgressSchema,
  })
  .strict();
export type VerifyInput = z.input<typeof VerifyInputSchema>;

/** Input of {@link Vault.list}. */
export const ListInputSchema = z
  .object({
    tenantId: TenantOption,
    before: z.date().optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
  })
  .strict();
export type ListInput = z.input<typeof ListInputSchema>;

/** Input of {@link Vault.prune}: keep the newest `keepLast` and/or those newer than `newerThanMs` (at least one rule). */
export const PruneInputSchema = z
  .object({
    tenantId: TenantOption,
    keepLast: z.number().int().min(0).max(1_000_000).optional(),
    /** Milliseconds. */
    newerThanMs: z
      .number()
      .int()
      .min(0)
      .max(100 * 365 * 86_400_000)
      .optional(),
  })
  .strict()
  .refine((v) => v.keepLast !== undefined || v.newerThanMs !== undefined, 'give keepLast and/or newerThanMs');
export type PruneInput = z.input<typeof PruneInputSchema>;

/** Input of {@link Vault.exportData}. */
export const ExportInputSchema = z
  .object({
    tenantId: TenantOption,
    target: z
      .custom<SnapshotStorage>(hasMethods('put', 'get', 'list', 'delete'), 'must be a SnapshotStorage')
      .optional(),
    decrypt: z
      .union([z.literal(false), z.custom<FieldCrypto>(hasMethods('open'), 'must be a FieldCrypto')])
      .optional(),
    signal: SignalSchema,
    onProgress: ProgressSchema,
  })
  .strict();
export type ExportInput = z.input<typeof ExportInputSchema>;

/** A snapshot as the vault reports it once written or verified. */
export interface SnapshotSummary {
  readonly snapshotId: string;
  readonly tenantId: string;
  readonly createdAt: Date;
  readonly kind: 'snapshot' | 'safety';
  /** SHA-256 (hex) of the data object. */
  readonly checksum: string;
  /** Bytes of the data object. */
  readonly size: number;
  readonly keyId: string;
  readonly compression: 'gzip' | 'zstd' | 'none';
  readonly modules: ReadonlyArray<{ name: string; schemaVersion: number; records: number; sha256: string }>;
}

/**
 * Per-tenant snapshots, verified restore, GDPR export and retention. Every method resolves the tenant
 * with core's `resolveTenantId` (T1): inside `runAsTenant(A)` only A; outside a context nothing
 * (`TENANT_CONTEXT_MISSING`); inside `runAsSystem` any named tenant.
 */
export interface Vault {
  /**
   * Takes a snapshot of the tenant (all registered modules, or the named ones plus their dependencies).
   * @throws VaultError `VAULT_MODULE_FAILED`, `VAULT_MODULE_NOT_FOUND`, `VAULT_STORAGE_UNAVAILABLE`, `VAULT_ABORTED`; `VALIDATION_FAILED`, `TENANT_CONTEXT_*`
   */
  snapshot(input?: SnapshotInput): Promise<SnapshotSummary>;
  /**
   * Reads and authenticates a whole snapshot without changing anything (V2). Integrity only: whether
   * this code can restore it (registered modules, schema versions) is checked by `restore`.
   * @throws VaultError `VAULT_SNAPSHOT_NOT_FOUND`, `VAULT_SNAPSHOT_CORRUPT`, `VAULT_SNAPSHOT_TENANT_MISMATCH`, `VAULT_FORMAT_UNSUPPORTED`, `VAULT_KEY_UNAVAILABLE`
   */
  verify(input: VerifyInput): Promise<SnapshotSummary>;
  /**
   * Restores a snapshot (by id, or the latest complete one before `before`): verified whole first,
   * then all-or-nothing under maintenance mode (V2, V3). See the README for the two modes.
   * @throws VaultError the codes of {@link verify}, `VAULT_SCHEMA_TOO_NEW`, `VAULT_UPGRADE_MISSING`, `VAULT_MODULE_NOT_FOUND` (nothing changed), `VAULT_RESTORE_FAILED` (tenant as before), `VAULT_RESTORE_ROLLBACK_FAILED`
   */
  restore(input: RestoreInput): Promise<RestoreReport>;
  /** The tenant's snapshot records, newest first. */
  list(input?: ListInput): Promise<SnapshotRecord[]>;
  /** Retention (see {@link PruneInputSchema}). */
  prune(input: PruneInput): Promise<PruneReport>;
  /**
   * GDPR export (art. 15/20): every module as JSON lines plus a manifest, written to `target`
   * (default: the vault's storage); crypto-fields values decrypted with `decrypt` (default: the
   * vault's `crypto`; `false` withholds them all).
   */
  exportData(input?: ExportInput): Promise<GdprExportReport>;
}

function summaryOf(m: SnapshotManifest): SnapshotSummary {
  return {
    snapshotId: m.snapshotId,
    tenantId: m.tenantId,
    createdAt: new Date(m.createdAt),
    kind: m.kind,
    checksum: m.data.sha256,
    size: m.data.size,
    keyId: m.keyId,
    compression: m.compression,
    modules: m.modules.map(({ name, schemaVersion, records, sha256 }) => ({
      name,
      schemaVersion,
      records,
      sha256,
    })),
  };
}

const span = <R>(operation: string, tenantId: string, fn: () => Promise<R>): Promise<R> =>
  withSpan('vault', operation, { [TelemetryAttributes.TENANT_ID]: tenantId }, fn);

/**
 * Builds the {@link Vault}.
 * @throws ValidationError `VALIDATION_FAILED` on bad options; VaultError `VAULT_FORMAT_UNSUPPORTED` for zstd on a Node without it
 * @example
 * const vault = createVault({ registry, storage: new MemorySnapshotStorage(), records: new MemorySnapshotRecordStore(), crypto });
 * const { snapshotId } = await runAsTenant(ctx, () => vault.snapshot());
 */
export function createVault(options: VaultOptions): Vault {
  const o = parseInput(VaultOptionsSchema, options, 'vault options');
  if (o.compression === 'zstd' && !zstdAvailable()) {
    throw new VaultError(
      'VAULT_FORMAT_UNSUPPORTED',
      'zstd is not available in this Node.js (22.15+ has it); use gzip',
    );
  }
  const clock = o.clock ?? systemClock;
  const rt: VaultRuntime = {
    registry: o.registry,
    storage: o.storage,
    records: o.records,
    crypto: o.crypto,
    audit: o.audit ?? noopAuditPort,
    maintenance: o.maintenance,
    clock,
    logger: o.logger ?? noopLogger,
    newId: createUuidV7Generator(clock),
    compression: o.compression,
    chunkBytes: o.chunkBytes,
    keyPrefix: o.keyPrefix,
  };
  const io = (signal?: AbortSignal, onProgress?: ProgressListener) => ({
    ...(signal ? { signal } : {}),
    ...(onProgress ? { onProgress } : {}),
  });

  return Object.freeze({
    async snapshot(input: SnapshotInput = {}): Promise<SnapshotSummary> {
      const i = parseInput(SnapshotInputSchema, input, 'snapshot input');
      const tenantId = resolveTenantId(i.tenantId, 'vault snapshot');
      return span('snapshot', tenantId, async () => {
        const modules = selectModules(o.registry, i.modules);
        const manifest = await writeSnapshot(rt, {
          tenantId,
          kind: 'snapshot',
          modules,
          createdBy: currentActor().id,
          ...io(i.signal, i.onProgress),
        });
        return summaryOf(manifest);
      });
    },
    async verify(input: VerifyInput): Promise<SnapshotSummary> {
      const i = parseInput(VerifyInputSchema, input, 'verify input');
      const tenantId = resolveTenantId(i.tenantId, 'vault verify');
      return span('verify', tenantId, async () => {
        const opened = await openSnapshot(rt, tenantId, i.snapshotId);
        await verifyData(rt, opened, { operation: 'verify', ...io(i.signal, i.onProgress) });
        return summaryOf(opened.manifest);
      });
    },
    async restore(input: RestoreInput): Promise<RestoreReport> {
      const i = parseInput(RestoreInputSchema, input, 'restore input');
      const tenantId = resolveTenantId(i.tenantId, 'vault restore');
      return span('restore', tenantId, async () => {
        let snapshotId = i.snapshotId;
        if (snapshotId === undefined) {
          const before = i.before instanceof Date ? i.before : new Date(i.before as string);
          const latest = await latestSnapshotBefore(o.records, tenantId, before);
          if (!latest) {
            throw new VaultError(
              'VAULT_SNAPSHOT_NOT_FOUND',
              'No complete snapshot of the tenant before that time',
              { details: { before: before.toISOString() } },
            );
          }
          snapshotId = latest.id;
        }
        return restoreSnapshot(rt, { tenantId, snapshotId, ...io(i.signal, i.onProgress) });
      });
    },
    async list(input: ListInput = {}): Promise<SnapshotRecord[]> {
      const i = parseInput(ListInputSchema, input, 'list input');
      const tenantId = resolveTenantId(i.tenantId, 'vault list');
      return span('list', tenantId, () =>
        o.records.list(tenantId, {
          ...(i.before ? { before: i.before } : {}),
          ...(i.limit ? { limit: i.limit } : {}),
        }),
      );
    },
    async prune(input: PruneInput): Promise<PruneReport> {
      const i = parseInput(PruneInputSchema, input, 'prune input');
      const tenantId = resolveTenantId(i.tenantId, 'vault prune');
      return span('prune', tenantId, () =>
        pruneSnapshots(rt, tenantId, { keepLast: i.keepLast, newerThanMs: i.newerThanMs }),
      );
    },
    async exportData(input: ExportInput = {}): Promise<GdprExportReport> {
      const i = parseInput(ExportInputSchema, input, 'export input');
      const tenantId = resolveTenantId(i.tenantId, 'vault export');
      return span('export', tenantId, () =>
        writeGdprExport(rt, {
          tenantId,
          target: i.target ?? o.storage,
          decrypt: i.decrypt === false ? undefined : (i.decrypt ?? o.crypto),
          ...io(i.signal, i.onProgress),
        }),
      );
    },
  });
}

/** The named modules plus everything they depend on, in dependency order (all when `names` is omitted). */
function selectModules(registry: ModuleRegistry, names: readonly string[] | undefined) {
  const ordered = registry.ordered();
  if (!names) return [...ordered];
  const wanted = new Set<string>();
  const visit = (name: string): void => {
    if (wanted.has(name)) return;
    const m = registry.get(name);
    if (!m)
      throw new VaultError('VAULT_MODULE_NOT_FOUND', `No module named ${name} is registered`, {
        details: { module: name },
      });
    wanted.add(name);
    for (const d of m.dependsOn ?? []) visit(d);
  };
  for (const n of names) visit(n);
  return ordered.filter((m) => wanted.has(m.name));
}

/**
 * The newest complete snapshot (not a safety snapshot) of the tenant created before `before`. Asks
 * the store for that kind, and pages back in case a store ignores the `kind` filter (so many newer
 * safety snapshots never hide an older snapshot).
 */
async function latestSnapshotBefore(
  records: SnapshotRecordStore,
  tenantId: string,
  before: Date,
): Promise<SnapshotRecord | undefined> {
  const PAGE = 50;
  let cursor = before;
  for (;;) {
    const page = await records.list(tenantId, {
      before: cursor,
      status: 'complete',
      kind: 'snapshot',
      limit: PAGE,
    });
    const found = page.find((r) => r.kind === 'snapshot');
    if (found) return found;
    const oldest = page[page.length - 1];
    if (page.length < PAGE || !oldest || oldest.createdAt.getTime() >= cursor.getTime()) return undefined;
    cursor = oldest.createdAt;
  }
}
