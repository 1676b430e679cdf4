// @tenantry/core/kysely: Tenantry's PostgreSQL executor port over a Kysely instance (re-exports only).
export { fromKysely, type KyselyPgClient } from './backends/kysely.js';
