// @tenantry/core/postgres: PostgreSQL backends and row-level security helpers (re-exports only).
export {
  PostgresQuotaStore,
  PostgresQuotaStoreOptionsSchema,
  type PostgresQuotaStoreOptions,
  quotaUsageTableSql,
  coreQuotaMigrations,
} from './backends/postgres/quota-store.js';
export { PgIdentifierSchema, quoteIdent, quoteLiteral } from './kernel/rls/sql-quote.js';
export {
  TenantSettingNameSchema,
  TenantForeignKeySchema,
  TenantTableSqlOptionsSchema,
  type TenantTableSqlOptions,
  tenantSettingExpression,
  tenantTableSql,
} from './kernel/rls/tenant-table-sql.js';
export {
  TenantUnitOfWorkOptionsSchema,
  type TenantUnitOfWorkOptions,
  type TenantUnitOfWork,
  type RunOptions as TenantUnitOfWorkRunOptions,
  createTenantUnitOfWork,
  isPipelinedClient,
  corkWrites,
  UnitOfWorkStatementSchema,
} from './kernel/rls/unit-of-work.js';
export {
  type RlsErrorCode,
  RlsError,
  RlsCheckOptionsSchema,
  type RlsCheckOptions,
  type RlsCheckReport,
  assertRlsEnforced,
} from './kernel/rls/startup-check.js';
export { PostgresTenantStore, type PostgresTenantStoreOptions } from './backends/postgres/tenant-store.js';
export { coreModelMigrations } from './backends/postgres/model-migrations.js';
export {
  runMigrations,
  MigrationSchema,
  type Migration,
  type MigrationReport,
  MIGRATIONS_TABLE,
} from './kernel/migrations.js';
export {
  PostgresInvalidationBus,
  type PostgresInvalidationBusOptions,
  type PgListenClientLike,
} from './backends/postgres/invalidation-bus.js';
