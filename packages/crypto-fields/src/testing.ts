// @tenantry/crypto-fields/testing: conformance suites for custom backends (re-exports only; no test runner imported).
export { dataKeyStoreConformance, type DataKeyStoreHarness } from './testing/data-key-store-suite.js';
export { checkpointStoreConformance, type CheckpointStoreHarness } from './testing/checkpoint-store-suite.js';
