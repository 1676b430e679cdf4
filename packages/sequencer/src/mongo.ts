// @tenantry/sequencer/mongo: the MongoDB backends (re-exports only).
export { MongoCounterStore, type MongoCounterStoreOptions } from './backends/mongo/counter-store.js';
export { MongoLockBackend, type MongoLockBackendOptions } from './backends/mongo/lock-backend.js';
export {
  createMongoSequencer,
  type MongoSequencer,
  type MongoSequencerOptions,
  type MongoAllocateOptions,
  type MongoReadOptions,
  type MongoVoidOptions,
} from './backends/mongo/sequencer.js';
export { ensureSequencerIndexes, MONGO_COLLECTIONS } from './backends/mongo/schema.js';
