// @tenantry/core/drizzle: Tenantry's PostgreSQL executor port over a Drizzle database (re-exports only).
export {
  fromDrizzle,
  type DrizzleDatabaseLike,
  type DrizzleTransactionLike,
  type DrizzleTransactionOf,
  type DrizzlePgClient,
} from './backends/drizzle.js';
