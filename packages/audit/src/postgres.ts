// @tenantry/audit/postgres: the PostgreSQL sink and its schema (re-exports only). Peer: pg.
export { PostgresAuditSink, type PostgresAuditSinkOptions } from './backends/postgres/sink.js';
export {
  PostgresAuditNamesSchema,
  type PostgresAuditNames,
  auditMigrations,
  auditMigrationSql,
  auditChainGuardSql,
  auditGrantsSql,
} from './backends/postgres/schema.js';
