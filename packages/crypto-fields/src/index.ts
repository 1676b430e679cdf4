// @tenantry/crypto-fields: the service, ports, schemas and errors (re-exports only; backends live in /memory, /postgres, /mongo).
export { CryptoErrorCodes, type CryptoErrorCode, CryptoFieldsError } from './errors.js';
export { Algorithms, type AlgorithmName, hasNativeAesGcm } from './aead.js';
export {
  CIPHERTEXT_PREFIX,
  KEY_ID_PATTERN,
  type FieldContext,
  type ValueDescription,
  describeValue,
  isCiphertext,
} from './format.js';
export {
  createFieldCrypto,
  FieldCrypto,
  type FieldCryptoOptions,
  FieldCryptoOptionsSchema,
  FieldContextSchema,
  type FieldContextInput,
  ObjectContextSchema,
  type ObjectContextInput,
  type ResealResult,
} from './field-crypto.js';
export {
  type KeyProvider,
  type WrapContext,
  type WrappedKey,
  type DataKeyPurpose,
  localKeyProvider,
  LocalKeyProviderOptionsSchema,
  type LocalKeyProviderOptions,
} from './key-provider.js';
export { type DataKeyRecord, type DataKeyStore, DataKeyRecordSchema } from './data-key-store.js';
export {
  TenantKeys,
  type TenantKeysOptions,
  type KeyCacheOptions,
  type KeyCacheStats,
  DEFAULT_CACHE_MAX_TENANTS,
  DEFAULT_CACHE_TTL_MS,
} from './tenant-keys.js';
export { CryptoMetricNames, METER_NAME, type KeyCacheCounts } from './key-metrics.js';
export {
  BlindIndexOptionsSchema,
  type BlindIndexOptions,
  NormalizeSchema,
  type Normalize,
  normalizeValue,
} from './blind-index.js';
export { parseFieldPath, type FieldPath, FieldPathSchema } from './paths.js';
export { pooledRandom } from './random.js';
export {
  runRotation,
  RotationOptionsSchema,
  JobIdSchema,
  type RotationOptions,
  type RotationReport,
  type RotationStats,
  type RotationCheckpoint,
  type RotationFailure,
  type RotationTarget,
  type RotationRow,
  type RotationChange,
  type KeyCensusRow,
  type CheckpointStore,
} from './rotation.js';
