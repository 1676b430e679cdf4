export { tenantStoreConformance, type TenantStoreHarness } from './conformance/tenant-store-suite.js';
