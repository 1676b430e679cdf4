// @tenantry/core/testing: conformance suites for custom backends (re-exports only).
export {
  type QuotaStoreHarness,
  type ConformanceTestApi,
  quotaStoreConformance,
} from './quotas/conformance.js';
