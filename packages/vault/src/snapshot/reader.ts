import { isTenantryError } from '@tenantry/core';
import { VaultError } from '../errors.js';
import type { VaultRuntime } from '../runtime.js';
import { type SealedStats, type SnapshotKeys, deriveSnapshotKeys, openChunks } from './chunk-cipher.js';
import { compressStream } from './compression.js';
import { type FrameEvent, FrameParser } from './frames.js';
import { type SnapshotManifest, checkManifestMac, parseManifest } from './manifest.js';
import { type ProgressListener, type VaultProgress, report } from './progress.js';
import { snapshotObjectKeys } from './storage-keys.js';
import { SNAPSHOT_KEY_CONTEXT } from './writer.js';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A snapshot whose manifest was authenticated (its data not yet read). */
export interface OpenedSnapshot {
  readonly manifest: SnapshotManifest;
  readonly keys: SnapshotKeys;
}

const corrupt = (why: string): VaultError =>
  new VaultError('VAULT_SNAPSHOT_CORRUPT', `Snapshot failed verification: ${why}`);

/**
 * A missing object: the snapshot is unknown when neither the index nor the storage knows it
 * (`VAULT_SNAPSHOT_NOT_FOUND`); a snapshot the index records, or whose manifest was read, has lost
 * an object from storage (`VAULT_OBJECT_NOT_FOUND`).
 */
function mapStorageError(error: unknown, snapshotId: string, known: boolean, object: string): unknown {
  if (isTenantryError(error, 'VAULT_OBJECT_NOT_FOUND')) {
    if (known) {
      return new VaultError(
        'VAULT_OBJECT_NOT_FOUND',
        `The snapshot's ${object} object is missing from storage`,
        { details: { snapshotId, object }, cause: error },
      );
    }
    return new VaultError('VAULT_SNAPSHOT_NOT_FOUND', 'No such snapshot for this tenant', {
      details: { snapshotId },
      cause: error,
    });
  }
  return error;
}

/**
 * Reads and authenticates a snapshot's manifest: tenant (another tenant's snapshot is refused), the
 * snapshot key (crypto-fields, bound to tenant and snapshot id), then the manifest MAC.
 * @throws VaultError `VAULT_SNAPSHOT_INCOMPLETE`, `VAULT_SNAPSHOT_NOT_FOUND`, `VAULT_OBJECT_NOT_FOUND` (the index records the snapshot, its manifest is gone), `VAULT_SNAPSHOT_TENANT_MISMATCH`, `VAULT_SNAPSHOT_CORRUPT`, `VAULT_FORMAT_UNSUPPORTED`, `VAULT_KEY_UNAVAILABLE`
 */
export async function openSnapshot(
  rt: VaultRuntime,
  tenantId: string,
  snapshotId: string,
): Promise<OpenedSnapshot> {
  // The index knows unfinished snapshots; a snapshot it does not know (another database's) is read from storage.
  const record = await rt.records.get(tenantId, snapshotId);
  if (record && record.status !== 'complete') {
    throw new VaultError('VAULT_SNAPSHOT_INCOMPLETE', `The snapshot is ${record.status}, not complete`, {
      details: { snapshotId, status: record.status },
    });
  }
  const objectKeys = snapshotObjectKeys(rt.keyPrefix, tenantId, snapshotId);
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const b of rt.storage.get(objectKeys.manifest)) {
      size += b.byteLength;
      if (size > MAX_MANIFEST_BYTES) throw corrupt('manifest too large');
      parts.push(Buffer.from(b));
    }
  } catch (error) {
    throw mapStorageError(error, snapshotId, record !== null, 'manifest');
  }
  const manifest = parseManifest(Buffer.concat(parts), { tenantId, snapshotId });
  if (manifest.data.key !== objectKeys.data) throw corrupt('the manifest names another data object');
  const described = rt.crypto.describe(manifest.wrappedKey);
  if (described.kind !== 'ciphertext' || described.keyId !== manifest.keyId)
    throw corrupt('the sealed key differs from the manifest');
  let master: Buffer;
  try {
    const opened = await rt.crypto.open(manifest.wrappedKey, {
      ...SNAPSHOT_KEY_CONTEXT,
      tenantId,
      rowId: snapshotId,
    });
    master = Buffer.from(opened, 'base64');
  } catch (error) {
    if (
      isTenantryError(error, 'CRYPTO_DECRYPT_FAILED') ||
      isTenantryError(error, 'CRYPTO_PLAINTEXT_REJECTED')
    ) {
      throw new VaultError(
        'VAULT_SNAPSHOT_CORRUPT',
        'Snapshot failed verification: its key does not open for this tenant',
        { cause: error },
      );
    }
    throw new VaultError(
      'VAULT_KEY_UNAVAILABLE',
      "The tenant's data key for this snapshot is not available",
      {
        cause: error,
        details: { keyId: manifest.keyId },
      },
    );
  }
  if (master.byteLength !== 32) throw corrupt('bad snapshot key');
  const keys = deriveSnapshotKeys(master, snapshotId);
  master.fill(0);
  checkManifestMac(manifest, keys.manifest);
  return { manifest, keys };
}

/** Options of {@link readSnapshot}. */
export interface ReadOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  readonly operation: VaultProgress['operation'];
  readonly step?: string;
}

/**
 * Streams a snapshot's frames, checking as it goes: every chunk's authentication, the module order,
 * names, schema versions, record counts and SHA-256 against the manifest (checked at each module's
 * end, before its `end` event), and the data object's size, chunk count and SHA-256 at the end.
 */
export async function* readSnapshot(
  rt: VaultRuntime,
  opened: OpenedSnapshot,
  options: ReadOptions,
): AsyncGenerator<FrameEvent> {
  const { manifest, keys } = opened;
  const ids = { tenantId: manifest.tenantId, snapshotId: manifest.snapshotId };
  const stats: SealedStats = { chunks: 0, size: 0, sha256: '' };
  const progress = { records: 0, bytes: 0 };
  const base = { operation: options.operation, ...(options.step ? { step: options.step } : {}) };
  const source = async function* (): AsyncGenerator<Uint8Array> {
    let lastReport = 0;
    try {
      for await (const b of rt.storage.get(
        manifest.data.key,
        options.signal ? { signal: options.signal } : {},
      )) {
        if (options.signal?.aborted) throw new VaultError('VAULT_ABORTED', 'The operation was aborted');
        progress.bytes += b.byteLength;
        if (progress.bytes > manifest.data.size) throw corrupt('data object longer than the manifest says');
        if (progress.bytes - lastReport >= 64 * 1024) {
          lastReport = progress.bytes;
          report(options.onProgress, { ...base, ...progress });
        }
        yield b;
      }
    } catch (error) {
      throw mapStorageError(error, manifest.snapshotId, true, 'data');
    }
  };
  const plain = compressStream(openChunks(source(), keys, ids, stats), manifest.compression, 'decompress');
  let moduleIndex = -1;
  const parser = new FrameParser();
  for await (const chunk of plain) {
    const events = parser.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    for (const event of events) {
      if (event.kind === 'module') {
        moduleIndex++;
        const expected = manifest.modules[moduleIndex];
        if (!expected || expected.name !== event.name || expected.schemaVersion !== event.schemaVersion) {
          throw corrupt('modules differ from the manifest');
        }
      } else if (event.kind === 'records') {
        progress.records += event.data.length;
      } else {
        const expected = manifest.modules[moduleIndex];
        if (
          !expected ||
          event.digest.records !== expected.records ||
          event.digest.hex() !== expected.sha256
        ) {
          throw corrupt(`module ${expected?.name ?? '?'} differs from its checksum`);
        }
        report(options.onProgress, { ...base, module: expected.name, ...progress });
      }
      yield event;
    }
  }
  parser.end();
  if (moduleIndex !== manifest.modules.length - 1) throw corrupt('modules missing');
  if (
    stats.size !== manifest.data.size ||
    stats.chunks !== manifest.data.chunks ||
    stats.sha256 !== manifest.data.sha256
  ) {
    throw corrupt('data object differs from the manifest');
  }
}

/** Reads a whole snapshot without touching any module (V2): every check of {@link readSnapshot}. */
export async function verifyData(
  rt: VaultRuntime,
  opened: OpenedSnapshot,
  options: ReadOptions,
): Promise<void> {
  for await (const _ of readSnapshot(rt, opened, options)) {
    // Reading is verifying.
  }
}
