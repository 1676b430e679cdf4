export {
  tenantStoreConformance,
  type TenantStoreHarness,
  type ConformanceTestApi,
} from './conformance/tenant-store-suite.js';
