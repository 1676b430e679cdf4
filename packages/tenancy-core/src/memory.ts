// @tenantry/core/memory: in-memory backends (re-exports only). Real implementations that pass the
// same conformance suites as the PostgreSQL, Redis and MongoDB ones; state lives in this process only.
export { MemoryTenantStore } from './backends/memory/tenant-store.js';
export { MemoryQuotaStore } from './backends/memory/quota-store.js';
export { MemoryInvalidationBus } from './backends/memory/invalidation-bus.js';
