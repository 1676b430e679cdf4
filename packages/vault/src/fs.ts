// @tenantry/vault/fs: the local file-system snapshot storage, the default driver (re-exports only).
export {
  FileSystemSnapshotStorage,
  type FileSystemSnapshotStorageOptions,
  FileSystemSnapshotStorageOptionsSchema,
} from './storage/fs.js';
