export {
  createPostgresSequencer,
  PostgresSequencerOptionsSchema,
  type PostgresSequencer,
  type PgAllocateOptions,
} from './backends/postgres-sequencer.js';
export { PostgresCounterStore, PostgresAdvisoryLockBackend } from './backends/postgres-store.js';
export { migratePostgres, POSTGRES_MIGRATION_SQL } from './backends/postgres-schema.js';
export { scanPostgresDocuments, PostgresScanOptionsSchema } from './backends/postgres-inspect.js';
