// @tenantry/crypto-fields/mongo: MongoDB backends (re-exports only). Peer: `mongodb`.
export { MongoDataKeyStore, type MongoDataKeyStoreOptions } from './backends/mongo/data-key-store.js';
export { MongoCheckpointStore, type MongoCheckpointStoreOptions } from './backends/mongo/checkpoint-store.js';
export { ensureCryptoFieldsIndexes, CryptoFieldsIndexesOptionsSchema } from './backends/mongo/indexes.js';
export {
  createMongoDocumentCodec,
  type MongoDocumentCodec,
  type MongoDocumentCodecOptions,
} from './backends/mongo/document-codec.js';
