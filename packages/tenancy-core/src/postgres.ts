// @tenantry/core/postgres: PostgreSQL backends and row-level security helpers (re-exports only).
export {
  PostgresQuotaStore,
  PostgresQuotaStoreOptionsSchema,
  type PostgresQuotaStoreOptions,
  quotaUsageTableSql,
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
