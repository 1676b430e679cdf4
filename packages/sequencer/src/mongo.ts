export {
  MongoCounterStore,
  MongoLockBackend,
  createMongoSequencer,
  ensureMongoIndexes,
  MONGO_COLLECTIONS,
  type MongoSequencer,
  type MongoAllocateOptions,
} from './backends/mongo.js';
