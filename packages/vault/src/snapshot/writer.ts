import { randomBytes } from 'node:crypto';
import { TenantryError } from '@tenantry/core';
import { VaultError } from '../errors.js';
import type { VaultModule, VaultTransactionScope } from '../module.js';
import { declarationOf } from '../registry.js';
import type { VaultRuntime } from '../runtime.js';
import { type SealedStats, deriveSnapshotKeys, sealChunks } from './chunk-cipher.js';
import { compressStream } from './compression.js';
import { END_FRAME, FINISH_FRAME, ModuleDigest, moduleFrame, recordFrames } from './frames.js';
import { type SnapshotManifest, signManifest } from './manifest.js';
import { type ProgressListener, report } from './progress.js';
import { snapshotObjectKeys } from './storage-keys.js';

/** Context of the per-snapshot key sealed by crypto-fields (bound to tenant and snapshot id: C1). */
export const SNAPSHOT_KEY_CONTEXT = { collection: 'tenantry_vault', field: 'snapshot_key' } as const;
const BATCH_BYTES = 64 * 1024;

export interface WriteSnapshotInput {
  readonly tenantId: string;
  readonly kind: 'snapshot' | 'safety';
  readonly modules: readonly VaultModule[];
  readonly createdBy: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

/** The modules' shared transaction scope, when every one of them has the same one. */
export function sharedScope(modules: readonly VaultModule[]): VaultTransactionScope | undefined {
  const first = modules[0]?.transactions;
  return first !== undefined && modules.every((m) => m.transactions === first) ? first : undefined;
}

/** Wraps a module's failure (cause kept, never its message). */
export function moduleFailure(error: unknown, module: string, step: string): TenantryError {
  if (error instanceof VaultError && error.code !== 'VAULT_MODULE_FAILED') return error;
  if (error instanceof TenantryError && error.code.startsWith('VAULT_')) return error;
  return new VaultError('VAULT_MODULE_FAILED', `Module ${module} failed during ${step}`, {
    cause: error,
    details: { module, step, ...(error instanceof TenantryError ? { causeCode: error.code } : {}) },
  });
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new VaultError('VAULT_ABORTED', 'The operation was aborted');
}

/**
 * Writes one snapshot: modules in dependency order → frames → compression → chunked AEAD → storage,
 * then the authenticated manifest. Streams with backpressure; memory stays bounded (V6). When every
 * module shares one transaction scope, the export runs inside one (read-only) transaction of it, so
 * the snapshot is consistent across modules.
 */
export async function writeSnapshot(rt: VaultRuntime, input: WriteSnapshotInput): Promise<SnapshotManifest> {
  const { tenantId, modules } = input;
  const snapshotId = rt.newId();
  const createdAt = rt.clock.now();
  const keys = snapshotObjectKeys(rt.keyPrefix, tenantId, snapshotId);
  await rt.records.insert({
    id: snapshotId,
    tenantId,
    kind: input.kind,
    status: 'writing',
    checksum: '',
    size: 0,
    createdBy: input.createdBy,
    createdAt,
  });
  let dataWritten = false;
  try {
    const master = randomBytes(32);
    const wrappedKey = await rt.crypto.seal(master.toString('base64'), {
      ...SNAPSHOT_KEY_CONTEXT,
      tenantId,
      rowId: snapshotId,
    });
    const described = rt.crypto.describe(wrappedKey);
    const keyId = described.kind === 'ciphertext' ? described.keyId : 'unknown';
    const derived = deriveSnapshotKeys(master, snapshotId);
    master.fill(0);

    const digests = new Map<string, ModuleDigest>();
    const layouts = new Map<string, Record<string, unknown>>();
    const progress = { records: 0, bytes: 0 };
    const frames = async function* (transaction: unknown): AsyncGenerator<Buffer> {
      for (const module of modules) {
        checkAborted(input.signal);
        const digest = new ModuleDigest();
        digests.set(module.name, digest);
        let batch: Buffer[] = [moduleFrame(module.name, module.schemaVersion)];
        let batchBytes = batch[0]?.byteLength ?? 0;
        try {
          const context = {
            tenantId,
            transaction,
            setLayout: (layout: Readonly<Record<string, unknown>>) => {
              layouts.set(module.name, { ...layout });
            },
            ...(input.signal ? { signal: input.signal } : {}),
          };
          for await (const item of module.export(context)) {
            const records = Array.isArray(item) ? (item as readonly Uint8Array[]) : [item as Uint8Array];
            for (const r of records) {
              if (!(r instanceof Uint8Array))
                throw new TypeError('a module exported a record that is not a Uint8Array');
            }
            const framed = recordFrames(records);
            digest.add(framed, records.length);
            progress.records += records.length;
            batch.push(framed);
            batchBytes += framed.byteLength;
            if (batchBytes >= BATCH_BYTES) {
              checkAborted(input.signal);
              report(input.onProgress, { operation: 'snapshot', module: module.name, ...progress });
              yield Buffer.concat(batch, batchBytes);
              batch = [];
              batchBytes = 0;
            }
          }
        } catch (error) {
          throw moduleFailure(error, module.name, 'export');
        }
        batch.push(END_FRAME);
        yield Buffer.concat(batch, batchBytes + 1);
        report(input.onProgress, { operation: 'snapshot', module: module.name, ...progress });
      }
      yield FINISH_FRAME;
    };
    const stats: SealedStats = { chunks: 0, size: 0, sha256: '' };
    const writeData = async (transaction: unknown): Promise<void> => {
      const sealed = sealChunks(
        compressStream(frames(transaction), rt.compression, 'compress'),
        derived,
        { tenantId, snapshotId },
        stats,
        rt.chunkBytes,
      );
      const counted = async function* (): AsyncGenerator<Uint8Array> {
        let lastReport = 0;
        for await (const b of sealed) {
          progress.bytes += b.byteLength;
          if (progress.bytes - lastReport >= BATCH_BYTES) {
            lastReport = progress.bytes;
            report(input.onProgress, { operation: 'snapshot', ...progress });
          }
          yield b;
        }
      };
      dataWritten = true;
      await rt.storage.put(keys.data, counted(), input.signal ? { signal: input.signal } : {});
      // The data object is sealed in chunks behind the modules' reports, so their bytes lag; the
      // last report carries the whole object's size.
      report(input.onProgress, { operation: 'snapshot', ...progress });
    };
    const scope = sharedScope(modules);
    if (scope) await scope.run(tenantId, (tx) => writeData(tx), { readOnly: input.kind === 'snapshot' });
    else await writeData(undefined);

    const manifest = signManifest(
      {
        format: 'tenantry-vault',
        formatVersion: 1,
        snapshotId,
        tenantId,
        kind: input.kind,
        createdAt: createdAt.toISOString(),
        createdBy: input.createdBy,
        compression: rt.compression,
        cipher: 'aes-256-gcm',
        keyId,
        wrappedKey,
        modules: modules.map((m) => {
          const d = digests.get(m.name) as ModuleDigest;
          return {
            name: m.name,
            schemaVersion: m.schemaVersion,
            declaration: declarationOf(m).checksum,
            records: d.records,
            sha256: d.hex(),
            ...(layouts.has(m.name) ? { layout: layouts.get(m.name) } : {}),
          };
        }),
        data: { key: keys.data, size: stats.size, sha256: stats.sha256, chunks: stats.chunks },
      },
      derived.manifest,
    );
    const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2), 'utf8');
    await rt.storage.put(
      keys.manifest,
      (async function* () {
        yield manifestBytes;
      })(),
    );
    await rt.records.finish(tenantId, snapshotId, {
      status: 'complete',
      checksum: stats.sha256,
      size: stats.size + manifestBytes.byteLength,
    });
    return manifest;
  } catch (error) {
    await rt.records
      .finish(tenantId, snapshotId, { status: 'failed', checksum: '', size: 0 })
      .catch(() => false);
    if (dataWritten) await rt.storage.delete(keys.data).catch(() => undefined);
    throw error;
  }
}
