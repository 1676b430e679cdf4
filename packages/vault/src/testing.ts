// @tenantry/vault/testing: conformance suites (re-exports only).
export {
  type SnapshotRecordStoreHarness,
  snapshotRecordStoreConformance,
} from './testing/snapshot-record-store-suite.js';
