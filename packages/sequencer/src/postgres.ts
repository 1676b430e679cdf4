// @tenantry/sequencer/postgres: the PostgreSQL backends (re-exports only).
export {
  createPostgresSequencer,
  PostgresSequencerOptionsSchema,
  type PostgresSequencer,
  type PostgresAllocateOptions,
  type PostgresTransaction,
  type PostgresReadOptions,
  type PostgresVoidOptions,
  type PostgresWithNumberOptions,
  type PostgresInsertWithNumberOptions,
} from './backends/postgres/sequencer.js';
export {
  PostgresNumberedInsertSchema,
  type PostgresNumberedInsert,
  type InsertedWithNumber,
} from './backends/postgres/insert-with-number.js';
export type { PostgresWriteContext } from './backends/postgres/write-group.js';
export { PostgresCounterStore, type PostgresCounterStoreOptions } from './backends/postgres/counter-store.js';
export { PostgresLockBackend, type PostgresLockBackendOptions } from './backends/postgres/lock-backend.js';
export { sequencerMigrations } from './backends/postgres/schema.js';
export { scanPostgresDocuments, PostgresScanOptionsSchema } from './backends/postgres/inspect.js';
