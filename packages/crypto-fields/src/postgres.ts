export {
  PgDataKeyStore,
  type PgDataKeyStoreOptions,
  PgCheckpointStore,
  type PgCheckpointStoreOptions,
} from './backends/postgres.js';
export { pgRotationTarget, type PgRotationTargetOptions } from './pg-rotation-target.js';
export {
  createPgRowCodec,
  type PgRowCodec,
  type PgRowCodecOptions,
  type BlindIndexColumn,
} from './pg-row-codec.js';
