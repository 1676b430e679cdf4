// @tenantry/vault/testing: conformance suites (re-exports only).
export {
  type SnapshotRecordStoreHarness,
  snapshotRecordStoreConformance,
} from './testing/snapshot-record-store-suite.js';
export {
  type SnapshotStorageHarness,
  type SnapshotStorageSuiteOptions,
  snapshotStorageConformance,
} from './testing/snapshot-storage-suite.js';
