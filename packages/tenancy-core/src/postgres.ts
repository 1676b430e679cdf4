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
