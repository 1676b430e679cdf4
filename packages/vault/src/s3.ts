// @tenantry/vault/s3: S3 and S3-compatible snapshot storage through the AWS SDK v3 (re-exports only).
export {
  S3SnapshotStorage,
  type S3SnapshotStorageOptions,
  S3SnapshotStorageOptionsSchema,
} from './storage/s3.js';
