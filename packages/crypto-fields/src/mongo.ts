export {
  MongoDataKeyStore,
  type MongoDataKeyStoreOptions,
  MongoCheckpointStore,
  type MongoCheckpointStoreOptions,
} from './backends/mongo.js';
export {
  createMongoDocumentCodec,
  type MongoDocumentCodec,
  type MongoDocumentCodecOptions,
} from './mongo-codec.js';
