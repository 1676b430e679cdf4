export { type PostgresSinkOptions, createPostgresSink } from './backends/postgres.js';
export { type PostgresAuditNames, auditMigrationSql, auditGrantsSql } from './backends/postgres-schema.js';
