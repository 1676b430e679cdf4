import { VaultError } from '../errors.js';
import type { SnapshotStorage } from './storage.js';
import {
  assertBody,
  assertChunk,
  assertStorageKey,
  assertStoragePrefix,
  bodyFailure,
} from './storage-key.js';

interface StoredObject {
  readonly chunks: readonly Uint8Array[];
  readonly size: number;
  readonly lastModified: Date;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new VaultError('VAULT_ABORTED', 'The storage operation was aborted.');
}

/**
 * In-memory {@link SnapshotStorage} for tests and quick starts: objects live in this process only
 * (copies of the written chunks). A `put` becomes visible under its key only once the body is
 * fully read; a failed or aborted upload leaves the previous object in place.
 * @example const storage = new MemorySnapshotStorage();
 */
export class MemorySnapshotStorage implements SnapshotStorage {
  readonly #objects = new Map<string, StoredObject>();

  async put(
    key: string,
    body: AsyncIterable<Uint8Array>,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ size: number }> {
    assertStorageKey(key);
    assertBody(body);
    checkAborted(options?.signal);
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        checkAborted(options?.signal);
        assertChunk(chunk);
        chunks.push(Uint8Array.from(chunk));
        size += chunk.byteLength;
      }
    } catch (e) {
      throw bodyFailure(e, 'memory');
    }
    this.#objects.set(key, { chunks, size, lastModified: new Date() });
    return { size };
  }

  async *get(key: string, options: { signal?: AbortSignal } = {}): AsyncIterable<Uint8Array> {
    assertStorageKey(key);
    checkAborted(options?.signal);
    const object = this.#objects.get(key);
    if (!object)
      throw new VaultError('VAULT_OBJECT_NOT_FOUND', 'No snapshot object under that key.', {
        details: { key },
      });
    for (const chunk of object.chunks) {
      checkAborted(options?.signal);
      yield Uint8Array.from(chunk);
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number; lastModified: Date }> {
    assertStoragePrefix(prefix);
    const keys = [...this.#objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      const object = this.#objects.get(key);
      if (object) yield { key, size: object.size, lastModified: object.lastModified };
    }
  }

  async delete(key: string): Promise<void> {
    assertStorageKey(key);
    this.#objects.delete(key);
  }
}
