// @tenantry/vault/testing: conformance suites (re-exports only).
export { type SnapshotStorageHarness, snapshotStorageConformance } from './testing/snapshot-storage-suite.js';
