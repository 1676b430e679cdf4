import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { TenantryError, ValidationError, parseInput, withSpan } from '@tenantry/core';
import { z } from 'zod';
import { VaultError } from '../errors.js';
import type { SnapshotStorage } from './storage.js';
import {
  assertBody,
  assertChunk,
  assertStorageKey,
  assertStoragePrefix,
  bodyFailure,
} from './storage-key.js';

/** Options of {@link FileSystemSnapshotStorage}. */
export const FileSystemSnapshotStorageOptionsSchema = z.strictObject({
  /** The directory objects live under (created if missing). Relative paths resolve against the working directory. */
  root: z.string().min(1).max(4096),
  /** fsync each file before it is renamed into place, and its directory after. @default true */
  fsync: z.boolean().default(true),
});
/** Input of {@link FileSystemSnapshotStorage}'s constructor. */
export type FileSystemSnapshotStorageOptions = z.input<typeof FileSystemSnapshotStorageOptionsSchema>;

const READ_CHUNK = 256 * 1024;
const PART_SUFFIX = '.part';

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new VaultError('VAULT_ABORTED', 'The storage operation was aborted.');
}

function fsError(error: unknown, operation: string): TenantryError {
  if (error instanceof TenantryError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  return new VaultError(
    'VAULT_STORAGE_UNAVAILABLE',
    `The file-system snapshot storage failed to ${operation}.`,
    {
      cause: error,
      details: { driver: 'fs', operation, errno: typeof code === 'string' ? code : undefined },
    },
  );
}

const isNotFound = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
};

/**
 * {@link SnapshotStorage} on a local (or mounted) file system, the default driver.
 *
 * - A key `a/b/c` is the file `<root>/a/b/c`. Keys are checked by one rule on every driver
 *   (`VAULT_STORAGE_KEY_INVALID`: no `..`, no absolute path, no hidden or control characters), and the
 *   resolved path — symlinks followed — must stay under the root, so no key escapes it (T4).
 * - `put` writes `<dir>/.<name>.<random>.part`, fsyncs it and renames it over the key: readers see the
 *   old object or the whole new one, never a partial one. A failed or aborted `put` removes its part
 *   file; a crash may leave one behind, which `list` ignores (names starting with `.`).
 * - `list` walks the directory under the prefix and returns keys in string order.
 *
 * Failures: `VAULT_OBJECT_NOT_FOUND` (get of a missing key), `VAULT_ABORTED`, `VAULT_STORAGE_KEY_INVALID`,
 * `VALIDATION_FAILED` (options, a body that is not iterable or yields a non-`Uint8Array`), and
 * `VAULT_STORAGE_UNAVAILABLE` for any file-system error (the errno in `details.errno`, the error as `cause`).
 * @example const storage = new FileSystemSnapshotStorage({ root: '/var/lib/app/snapshots' });
 */
export class FileSystemSnapshotStorage implements SnapshotStorage {
  /** The absolute root directory. */
  readonly root: string;
  readonly #fsync: boolean;
  #realRoot: Promise<string> | undefined;

  constructor(options: FileSystemSnapshotStorageOptions) {
    const parsed = parseInput(
      FileSystemSnapshotStorageOptionsSchema,
      options,
      'FileSystemSnapshotStorage options',
    );
    if (parsed.root.includes('\0')) {
      throw new ValidationError('FileSystemSnapshotStorage options', [
        { path: ['root'], message: 'must not contain NUL' },
      ]);
    }
    this.root = resolve(parsed.root);
    this.#fsync = parsed.fsync;
  }

  /** The root with symlinks resolved, created on first use. */
  #rootPath(): Promise<string> {
    this.#realRoot ??= (async () => {
      await mkdir(this.root, { recursive: true });
      return realpath(this.root);
    })().catch((e: unknown) => {
      this.#realRoot = undefined;
      throw fsError(e, 'open its root directory');
    });
    return this.#realRoot;
  }

  /** The path of a (checked) key, after making sure its existing parent directories stay under the root. */
  async #pathOf(key: string): Promise<string> {
    const root = await this.#rootPath();
    const path = join(root, ...key.split('/'));
    await this.#assertInside(root, dirname(path));
    return path;
  }

  /** The deepest existing ancestor of `dir` must resolve (symlinks followed) under the root. */
  async #assertInside(root: string, dir: string): Promise<void> {
    let probe = dir;
    for (;;) {
      try {
        const real = await realpath(probe);
        if (real !== root && !real.startsWith(root + sep)) {
          throw new VaultError(
            'VAULT_STORAGE_KEY_INVALID',
            'The storage key resolves outside the storage root.',
            {
              details: { reason: 'escapes the root through a symbolic link' },
            },
          );
        }
        return;
      } catch (e) {
        if (e instanceof TenantryError) throw e;
        if (!isNotFound(e) || probe === root || !probe.startsWith(root)) throw fsError(e, 'resolve a path');
        probe = dirname(probe);
      }
    }
  }

  async put(
    key: string,
    body: AsyncIterable<Uint8Array>,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ size: number }> {
    assertStorageKey(key);
    assertBody(body);
    const signal = options?.signal;
    return withSpan('vault', 'storage.put', { 'tenantry.vault.storage': 'fs' }, async (span) => {
      checkAborted(signal);
      const path = await this.#pathOf(key);
      const dir = dirname(path);
      const part = join(
        dir,
        `.${path.slice(dir.length + 1)}.${randomBytes(6).toString('hex')}${PART_SUFFIX}`,
      );
      let handle: FileHandle | undefined;
      let size = 0;
      try {
        // A concurrent delete may remove the directory (left empty) between mkdir and open: retry.
        for (let attempt = 1; handle === undefined; attempt++) {
          try {
            await mkdir(dir, { recursive: true });
            // Re-check after creating directories: a concurrent symlink swap must not redirect the write.
            await this.#assertInside(await this.#rootPath(), dir);
            handle = await open(part, 'wx', 0o600);
          } catch (e) {
            if (e instanceof TenantryError) throw e;
            if (attempt < 3 && isNotFound(e)) continue;
            throw fsError(e, 'create a file');
          }
        }
        for await (const chunk of body) {
          checkAborted(signal);
          assertChunk(chunk);
          try {
            await handle.write(chunk);
          } catch (e) {
            throw fsError(e, 'write a file');
          }
          size += chunk.byteLength;
        }
        checkAborted(signal);
        try {
          if (this.#fsync) await handle.sync();
          await handle.close();
          handle = undefined;
          await rename(part, path);
          if (this.#fsync) await syncDirectory(dir);
        } catch (e) {
          throw fsError(e, 'move a file into place');
        }
      } catch (e) {
        await handle?.close().catch(() => undefined);
        await unlink(part).catch(() => undefined);
        throw bodyFailure(e, 'fs');
      }
      span.setAttribute('tenantry.vault.bytes', size);
      return { size };
    });
  }

  async *get(key: string, options: { signal?: AbortSignal } = {}): AsyncIterable<Uint8Array> {
    assertStorageKey(key);
    const signal = options?.signal;
    checkAborted(signal);
    const path = await this.#pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      }
    } catch (e) {
      if (isNotFound(e)) {
        throw new VaultError('VAULT_OBJECT_NOT_FOUND', 'No snapshot object under that key.', {
          details: { key },
        });
      }
      throw fsError(e, 'open a file');
    }
    // The open handle keeps reading the object it opened, even if a put renames a new one into place.
    const stream = createReadStream('', { fd: handle, highWaterMark: READ_CHUNK, autoClose: true });
    try {
      for await (const chunk of stream) {
        checkAborted(signal);
        yield chunk as Buffer;
      }
    } catch (e) {
      throw fsError(e, 'read a file');
    } finally {
      stream.destroy();
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number; lastModified: Date }> {
    assertStoragePrefix(prefix);
    const root = await this.#rootPath();
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    const found: { key: string; size: number; lastModified: Date }[] = [];
    const walk = async (relDir: string): Promise<void> => {
      const dir = relDir === '' ? root : join(root, ...relDir.split('/'));
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isNotFound(e)) return;
        throw fsError(e, 'list a directory');
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue; // part files of puts in progress (or of a crash)
        const key = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
        if (entry.isDirectory()) {
          if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(key);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          try {
            const s = await stat(join(dir, entry.name));
            found.push({ key, size: s.size, lastModified: s.mtime });
          } catch (e) {
            if (!isNotFound(e)) throw fsError(e, 'stat a file'); // deleted meanwhile
          }
        }
      }
    };
    if (base !== '') await this.#assertInside(root, join(root, ...base.split('/')));
    await walk(base);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  async delete(key: string): Promise<void> {
    assertStorageKey(key);
    return withSpan('vault', 'storage.delete', { 'tenantry.vault.storage': 'fs' }, async () => {
      const root = await this.#rootPath();
      const path = await this.#pathOf(key);
      try {
        await unlink(path);
      } catch (e) {
        if (isNotFound(e)) return;
        throw fsError(e, 'delete a file');
      }
      // Remove directories the delete left empty (best effort: a concurrent put may fill them again).
      for (let dir = dirname(path); dir !== root && dir.startsWith(root + sep); dir = dirname(dir)) {
        try {
          await rmdir(dir);
        } catch {
          break;
        }
      }
    });
  }
}

async function syncDirectory(dir: string): Promise<void> {
  if (isAbsolute(dir) && process.platform !== 'win32') {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
