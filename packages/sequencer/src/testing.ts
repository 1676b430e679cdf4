// @tenantry/sequencer/testing: the conformance suites of the ports (re-exports only; no test runner imported).
export { counterStoreConformance, type CounterStoreHarness } from './testing/counter-store-suite.js';
export { lockBackendConformance, type LockBackendHarness } from './testing/lock-backend-suite.js';
