/** Where snapshot objects live. Keys are relative paths built by the vault (tenant-namespaced, T4); drivers never interpret them. */
export interface SnapshotStorage {
  /** Streams body to key, replacing any object there only once the upload is complete (no partial object visible under key). Returns bytes written. */
  put(
    key: string,
    body: AsyncIterable<Uint8Array>,
    options?: { signal?: AbortSignal },
  ): Promise<{ size: number }>;
  /** Streams the object; fails with VaultError code VAULT_OBJECT_NOT_FOUND if absent. */
  get(key: string, options?: { signal?: AbortSignal }): AsyncIterable<Uint8Array>;
  /** Objects whose key starts with prefix, in key order. */
  list(prefix: string): AsyncIterable<{ key: string; size: number; lastModified: Date }>;
  /** Deletes the object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
}
