// @tenantry/core/testing: runner-neutral conformance suites for custom backends (re-exports only).
// Nothing here imports a test runner: pass your runner's `{ describe, it, expect }` (SuiteApi).
export type { SuiteApi, SuiteAssertion } from './testing/suite-api.js';
export { settledCode } from './testing/settled-code.js';
export { type QuotaStoreHarness, quotaStoreConformance } from './testing/quota-store-suite.js';
export { type TenantStoreHarness, tenantStoreConformance } from './testing/tenant-store-suite.js';
export {
  tenantIsolationConformance,
  type TenantIsolationHarness,
  type TenantScopedOperation,
} from './testing/tenant-isolation-suite.js';
