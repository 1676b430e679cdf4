// @tenantry/vault/postgres: PostgreSQL table modules, transaction scope, snapshot records store and migrations (re-exports only).
export {
  createPostgresTransactionScope,
  PostgresTransactionScopeOptionsSchema,
  type PostgresTransactionScopeOptions,
  type PostgresTransaction,
} from './backends/postgres/transaction-scope.js';
export {
  postgresTableModule,
  PostgresTableModuleOptionsSchema,
  type PostgresTableModuleOptions,
} from './backends/postgres/table-module.js';
export {
  PostgresSnapshotRecordStore,
  type PostgresSnapshotRecordStoreOptions,
  recordModules,
} from './backends/postgres/record-store.js';
export {
  vaultMigrations,
  VAULT_MIGRATION_SQL,
  SNAPSHOTS_TABLE,
  MODULES_TABLE,
} from './backends/postgres/schema.js';
