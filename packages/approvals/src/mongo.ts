// @tenantry/approvals/mongo: the MongoDB store (re-exports only).
export {
  MongoApprovalStore,
  type MongoApprovalStoreOptions,
  ensureApprovalsIndexes,
  MONGO_REQUESTS,
  MONGO_POLICIES,
} from './backends/mongo.js';
