export { counterStoreConformance, type CounterStoreHarness } from './testing/counter-store-suite.js';
export { lockBackendConformance, type LockBackendHarness } from './testing/lock-backend-suite.js';
export type { SuiteApi } from './testing/api.js';
