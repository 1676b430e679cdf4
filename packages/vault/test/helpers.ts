import { randomBytes } from 'node:crypto';
import { MemoryAuditPort, runAsTenant } from '@tenantry/core';
import { type FieldCrypto, createFieldCrypto, localKeyProvider } from '@tenantry/crypto-fields';
import { MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { type Maintenance, type VaultModule, createModuleRegistry, createVault } from '../src/index.js';
import { MemorySnapshotRecordStore, MemorySnapshotStorage } from '../src/memory.js';

export const actor = { id: 'admin-1', roles: ['TENANT_ADMIN'] };
export const asTenant = <R>(tenantId: string, fn: () => Promise<R>): Promise<R> =>
  runAsTenant({ tenantId, actor }, fn);

export function newCrypto(): FieldCrypto {
  return createFieldCrypto({
    provider: localKeyProvider({ keys: { k1: randomBytes(32).toString('base64') }, primary: 'k1' }),
    store: new MemoryDataKeyStore(),
  });
}

/** A table of string rows per tenant, in memory; `failImportAfter` makes import throw after n rows. */
export class MemoryTable {
  readonly rows = new Map<string, string[]>();
  failImportAfter: number | undefined;
  /** The injected import failure fires once (the rollback's import then succeeds). */
  failOnce = false;
  cleans = 0;
  constructor(
    readonly name: string,
    readonly dependsOn: string[] = [],
    readonly schemaVersion = 1,
  ) {}
  module(extra: Partial<VaultModule> = {}): VaultModule {
    const table = this.rows;
    return {
      name: this.name,
      schemaVersion: this.schemaVersion,
      dependsOn: this.dependsOn,
      export: async function* (this: void, { tenantId }) {
        for (const r of table.get(tenantId) ?? []) yield Buffer.from(r, 'utf8');
      },
      import: async ({ tenantId }, records) => {
        const list = table.get(tenantId) ?? [];
        table.set(tenantId, list);
        for await (const r of records) {
          if (this.failImportAfter !== undefined && list.length >= this.failImportAfter) {
            if (this.failOnce) this.failImportAfter = undefined;
            throw new Error('disk full');
          }
          list.push(Buffer.from(r).toString('utf8'));
        }
      },
      clean: async ({ tenantId }) => {
        this.cleans++;
        table.delete(tenantId);
      },
      toJson: (r) => JSON.parse(Buffer.from(r).toString('utf8')) as Record<string, unknown>,
      ...extra,
    };
  }
  fill(tenantId: string, n: number, tag = 'v1'): void {
    this.rows.set(
      tenantId,
      Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, tenant: tenantId, tag })),
    );
  }
  dump(): string {
    return JSON.stringify([...this.rows.entries()].sort());
  }
}

export class MemoryMaintenance implements Maintenance {
  readonly on = new Set<string>();
  readonly log: string[] = [];
  async set(tenantId: string, on: boolean): Promise<void> {
    this.log.push(`${tenantId}:${on}`);
    if (on) this.on.add(tenantId);
    else this.on.delete(tenantId);
  }
}

export function memoryVault(
  modules: VaultModule[],
  extra: { crypto?: FieldCrypto; storage?: MemorySnapshotStorage; chunkBytes?: number } = {},
) {
  const registry = createModuleRegistry(modules);
  const storage = extra.storage ?? new MemorySnapshotStorage();
  const records = new MemorySnapshotRecordStore();
  const audit = new MemoryAuditPort();
  const maintenance = new MemoryMaintenance();
  const crypto = extra.crypto ?? newCrypto();
  const vault = createVault({
    registry,
    storage,
    records,
    crypto,
    audit,
    maintenance,
    ...(extra.chunkBytes ? { chunkBytes: extra.chunkBytes } : {}),
  });
  return { vault, registry, storage, records, audit, maintenance, crypto };
}

/** Reads a whole object of a memory storage. */
export async function readObject(storage: MemorySnapshotStorage, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of storage.get(key)) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
}

export async function writeObject(storage: MemorySnapshotStorage, key: string, bytes: Buffer): Promise<void> {
  await storage.put(
    key,
    (async function* () {
      yield bytes;
    })(),
  );
}
