// @tenantry/vault: the public face (re-exports only; backends and storage drivers live in their subpaths).
export { VaultErrorCodes, type VaultErrorCode, VaultError } from './errors.js';
export type { SnapshotStorage } from './storage/storage.js';
