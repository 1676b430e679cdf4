// @tenantry/core/testing: conformance suites for custom backends (re-exports only).
export {
  type QuotaStoreHarness,
  type QuotaConformanceApi,
  quotaStoreConformance,
} from './quotas/conformance.js';
export {
  tenantStoreConformance,
  type TenantStoreHarness,
  type ConformanceTestApi,
} from './conformance/tenant-store-suite.js';
export { settledCode } from './conformance/error-code.js';
export type { SuiteApi, SuiteAssertion } from './testing/suite-api.js';
export {
  tenantIsolationConformance,
  type TenantIsolationHarness,
  type TenantScopedOperation,
} from './testing/tenant-isolation-suite.js';
