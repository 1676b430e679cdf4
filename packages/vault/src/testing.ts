// @tenantry/vault/testing: conformance suites (re-exports only).
export {
  type SnapshotStorageHarness,
  type SnapshotStorageSuiteOptions,
  snapshotStorageConformance,
} from './testing/snapshot-storage-suite.js';
