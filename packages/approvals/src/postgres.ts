// @tenantry/approvals/postgres: the PostgreSQL store and its migration (re-exports only).
export { PostgresApprovalStore, type PostgresApprovalStoreOptions } from './backends/postgres/store.js';
export {
  APPROVALS_MIGRATION_SQL,
  REQUESTS_TABLE,
  POLICIES_TABLE,
  approvalsMigrations,
} from './backends/postgres/schema.js';
