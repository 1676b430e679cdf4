export { MongoTenantStore, type MongoTenantStoreOptions } from './backends/tenant-store-mongo.js';
