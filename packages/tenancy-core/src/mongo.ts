export { MongoTenantStore, type MongoTenantStoreOptions } from './backends/mongo/tenant-store.js';
