import { createHash } from 'node:crypto';
import { isTenantryError } from '@tenantry/core';
import { type FieldCrypto, isCiphertext } from '@tenantry/crypto-fields';
import { currentActor } from './actor.js';
import type { VaultModule } from './module.js';
import type { VaultRuntime } from './runtime.js';
import { type ProgressListener, report } from './snapshot/progress.js';
import { exportPrefix } from './snapshot/storage-keys.js';
import { moduleFailure, sharedScope } from './snapshot/writer.js';
import type { SnapshotStorage } from './storage/storage.js';

/** A crypto-fields value the export could not decrypt (no key, shredded key, or an undeclared context). */
export interface WithheldValue {
  readonly withheld: true;
  /** `no-key`: decryption not requested or the key is gone; `undeclared`: the module does not declare the field's context. */
  readonly reason: 'no-key' | 'undeclared';
}

/** What a GDPR export wrote. */
export interface GdprExportReport {
  readonly exportId: string;
  readonly tenantId: string;
  /** Key prefix of the archive in the target storage (`…/manifest.json`, `…/<module>.jsonl`). */
  readonly prefix: string;
  readonly modules: ReadonlyArray<{
    name: string;
    file: string;
    records: number;
    withheld: number;
    sha256: string;
  }>;
}

export interface GdprExportInput {
  readonly tenantId: string;
  readonly target: SnapshotStorage;
  readonly decrypt: FieldCrypto | undefined;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

function defaultJson(record: Uint8Array): Record<string, unknown> {
  return { base64: Buffer.from(record).toString('base64') };
}

async function readable(
  module: VaultModule,
  row: Record<string, unknown>,
  tenantId: string,
  decrypt: FieldCrypto | undefined,
  counts: { withheld: number },
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    if (typeof value !== 'string' || !isCiphertext(value)) {
      out[name] = value;
      continue;
    }
    const spec = module.encryptedFields?.[name];
    if (!spec) {
      counts.withheld++;
      out[name] = { withheld: true, reason: 'undeclared' } satisfies WithheldValue;
      continue;
    }
    const rowId = spec.rowIdField === undefined ? undefined : row[spec.rowIdField];
    try {
      if (!decrypt) throw new Error('no key');
      out[name] = await decrypt.open(value, {
        tenantId,
        collection: spec.collection,
        field: spec.field ?? name,
        ...(rowId === undefined || rowId === null ? {} : { rowId: String(rowId) }),
      });
    } catch (error) {
      if (error instanceof Error && !isTenantryError(error) && error.message !== 'no key') throw error;
      counts.withheld++;
      out[name] = { withheld: true, reason: 'no-key' } satisfies WithheldValue;
    }
  }
  return out;
}

/**
 * Writes the tenant's data as a readable archive (GDPR art. 15/20): one JSON-lines file per module
 * (`toJson` of each record; crypto-fields values decrypted with the caller's keys, else marked
 * withheld) plus `manifest.json` with counts and SHA-256 of each file.
 */
export async function writeGdprExport(rt: VaultRuntime, input: GdprExportInput): Promise<GdprExportReport> {
  const { tenantId, target } = input;
  const exportId = rt.newId();
  const prefix = exportPrefix(rt.keyPrefix, tenantId, exportId);
  const modules = rt.registry.ordered();
  const results: Array<{ name: string; file: string; records: number; withheld: number; sha256: string }> =
    [];
  const progress = { records: 0, bytes: 0 };
  const run = async (transaction: unknown): Promise<void> => {
    for (const module of modules) {
      const file = `${module.name}.jsonl`;
      const counts = { records: 0, withheld: 0 };
      const hash = createHash('sha256');
      const lines = async function* (): AsyncGenerator<Uint8Array> {
        let batch = '';
        try {
          for await (const item of module.export({
            tenantId,
            transaction,
            ...(input.signal ? { signal: input.signal } : {}),
          })) {
            for (const record of Array.isArray(item)
              ? (item as readonly Uint8Array[])
              : [item as Uint8Array]) {
              const row = module.toJson ? module.toJson(record) : defaultJson(record);
              batch += `${JSON.stringify(await readable(module, row, tenantId, input.decrypt, counts))}\n`;
              counts.records++;
              progress.records++;
            }
            if (batch.length >= 64 * 1024) {
              const b = Buffer.from(batch, 'utf8');
              hash.update(b);
              progress.bytes += b.byteLength;
              batch = '';
              report(input.onProgress, { operation: 'export', module: module.name, ...progress });
              yield b;
            }
          }
        } catch (error) {
          throw moduleFailure(error, module.name, 'export');
        }
        const b = Buffer.from(batch, 'utf8');
        hash.update(b);
        progress.bytes += b.byteLength;
        yield b;
      };
      await target.put(`${prefix}${file}`, lines(), input.signal ? { signal: input.signal } : {});
      results.push({
        name: module.name,
        file,
        records: counts.records,
        withheld: counts.withheld,
        sha256: hash.digest('hex'),
      });
      report(input.onProgress, { operation: 'export', module: module.name, ...progress });
    }
  };
  const scope = sharedScope(modules);
  if (scope) await scope.run(tenantId, run, { readOnly: true });
  else await run(undefined);
  const manifest = {
    format: 'tenantry-vault-export',
    formatVersion: 1,
    exportId,
    tenantId,
    createdAt: rt.clock.now().toISOString(),
    createdBy: currentActor().id,
    modules: results.map((r, i) => ({ ...r, schemaVersion: modules[i]?.schemaVersion })),
  };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 2), 'utf8');
  await target.put(
    `${prefix}manifest.json`,
    (async function* () {
      yield bytes;
    })(),
  );
  return { exportId, tenantId, prefix, modules: results };
}
