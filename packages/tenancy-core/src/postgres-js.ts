// @tenantry/core/postgres-js: Tenantry's PostgreSQL executor port over a postgres.js client (re-exports only).
export { fromPostgresJs, type PostgresJsPgClient } from './backends/postgres-js.js';
