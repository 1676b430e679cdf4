// @tenantry/vault/mongo: MongoDB collection modules and snapshot records store (re-exports only).
export {
  MongoSnapshotRecordStore,
  type MongoSnapshotRecordStoreOptions,
  ensureVaultIndexes,
  SNAPSHOTS_COLLECTION,
} from './backends/mongo/record-store.js';
export {
  mongoCollectionModule,
  MongoCollectionModuleOptionsSchema,
  type MongoCollectionModuleOptions,
  type BsonCodec,
} from './backends/mongo/collection-module.js';
