// @tenantry/crypto-fields/postgres: PostgreSQL backends (re-exports only). Peer: `pg`.
export {
  PostgresDataKeyStore,
  type PostgresDataKeyStoreOptions,
  PostgresDataKeyStoreOptionsSchema,
} from './backends/postgres/data-key-store.js';
export {
  PostgresCheckpointStore,
  type PostgresCheckpointStoreOptions,
} from './backends/postgres/checkpoint-store.js';
export {
  cryptoFieldsMigrations,
  cryptoFieldsSchemaSql,
  CryptoFieldsSchemaOptionsSchema,
  type CryptoFieldsSchemaOptions,
  PostgresTableNameSchema,
} from './backends/postgres/schema.js';
export {
  PostgresRotationTarget,
  type PostgresRotationTargetOptions,
} from './backends/postgres/rotation-target.js';
export {
  createPostgresRowCodec,
  type PostgresRowCodec,
  type PostgresRowCodecOptions,
  type BlindIndexColumn,
} from './backends/postgres/row-codec.js';
