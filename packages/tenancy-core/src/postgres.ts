// @tenantry/core/postgres: PostgreSQL backends and row-level security helpers (re-exports only).
export {
  PostgresQuotaStore,
  PostgresQuotaStoreOptionsSchema,
  type PostgresQuotaStoreOptions,
  quotaUsageTableSql,
  coreQuotaMigrations,
} from './backends/quota-postgres.js';
export { PgIdentifierSchema, quoteIdent, quoteLiteral } from './rls/sql-quote.js';
export {
  TenantSettingNameSchema,
  TenantForeignKeySchema,
  TenantTableSqlOptionsSchema,
  type TenantTableSqlOptions,
  tenantSettingExpression,
  tenantTableSql,
} from './rls/tenant-table-sql.js';
export {
  TenantUnitOfWorkOptionsSchema,
  type TenantUnitOfWorkOptions,
  type TenantUnitOfWork,
  type RunOptions as TenantUnitOfWorkRunOptions,
  createTenantUnitOfWork,
} from './rls/unit-of-work.js';
export {
  RlsErrorCodes,
  type RlsErrorCode,
  RlsError,
  RlsCheckOptionsSchema,
  type RlsCheckOptions,
  type RlsCheckReport,
  assertRlsEnforced,
} from './rls/startup-check.js';
export { PostgresTenantStore, type PostgresTenantStoreOptions } from './backends/tenant-store-postgres.js';
export { coreModelMigrations } from './migrations/core-model.js';
export {
  runMigrations,
  MigrationSchema,
  type Migration,
  type MigrationReport,
  MIGRATIONS_TABLE,
} from './migrations.js';
export {
  createPgInvalidationBus,
  type PgInvalidationBusOptions,
  type PgListenClientLike,
} from './backends/invalidation-bus-postgres.js';
