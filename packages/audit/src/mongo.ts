// @tenantry/audit/mongo: the MongoDB sink and its indexes (re-exports only). Peer: mongodb.
export {
  MongoAuditSink,
  type MongoAuditSinkOptions,
  ensureAuditIndexes,
  type MongoAuditIndexOptions,
} from './backends/mongo.js';
