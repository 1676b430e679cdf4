// @tenantry/vault: the public face (re-exports only; backends and storage drivers live in their subpaths).
export { VaultErrorCodes, type VaultErrorCode, VaultError } from './errors.js';
export type { SnapshotStorage } from './storage/storage.js';
export {
  type VaultModule,
  type VaultModuleContext,
  type VaultModuleLayout,
  type VaultTransactionScope,
  type VaultRecordUpgrade,
  ModuleNameSchema,
  VaultModuleSchema,
} from './module.js';
export {
  type ModuleRegistry,
  type ModuleDeclaration,
  createModuleRegistry,
  declarationOf,
} from './registry.js';
export type {
  SnapshotRecord,
  SnapshotRecordStore,
  SnapshotListQuery,
  SnapshotStatus,
} from './snapshot-record-store.js';
export { SnapshotStatusSchema } from './snapshot-record-store.js';
export { type Maintenance, directoryMaintenance } from './maintenance.js';
export type { VaultProgress, ProgressListener } from './snapshot/progress.js';
export { type SnapshotManifest, SnapshotManifestSchema, SnapshotIdSchema } from './snapshot/manifest.js';
export { type Compression, CompressionSchema, zstdAvailable } from './snapshot/compression.js';
export type { RestoreReport } from './restore.js';
export type { PruneReport } from './retention.js';
export type { GdprExportReport, WithheldValue } from './gdpr-export.js';
export {
  type Vault,
  type VaultOptions,
  VaultOptionsSchema,
  type SnapshotSummary,
  SnapshotInputSchema,
  type SnapshotInput,
  RestoreInputSchema,
  type RestoreInput,
  VerifyInputSchema,
  type VerifyInput,
  ListInputSchema,
  type ListInput,
  PruneInputSchema,
  type PruneInput,
  ExportInputSchema,
  type ExportInput,
  createVault,
} from './vault.js';
export {
  checkCoverage,
  assertCoverage,
  CoverageOptionsSchema,
  type CoverageOptions,
  type CoverageReport,
  type CoverageEntry,
  type VaultCoverageDeclaration,
  type CoveringModule,
  type CoverageMongoDb,
} from './coverage.js';
