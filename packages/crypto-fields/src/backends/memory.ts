import {
  type DataKeyRecord,
  type DataKeyStore,
  checkKekId,
  checkStoreArgs,
  checkStoreRecord,
  checkWrapped,
} from '../data-key-store.js';
import { CryptoFieldsError } from '../errors.js';
import type { DataKeyPurpose } from '../key-provider.js';
import { type CheckpointStore, type RotationCheckpoint, checkCheckpointArgs } from '../rotation.js';

const clone = (r: DataKeyRecord): DataKeyRecord => ({ ...r, createdAt: new Date(r.createdAt) });

/**
 * In-process {@link DataKeyStore}: same semantics as the database backends (passes the same
 * conformance suite), for tests and quick starts. Keys vanish with the process.
 * @example const store = new MemoryDataKeyStore();
 */
export class MemoryDataKeyStore implements DataKeyStore {
  readonly name = 'memory';
  readonly #keys = new Map<string, DataKeyRecord[]>();

  #of(tenantId: string): DataKeyRecord[] {
    let list = this.#keys.get(tenantId);
    if (!list) {
      list = [];
      this.#keys.set(tenantId, list);
    }
    return list;
  }

  async createPrimaryIfAbsent(record: DataKeyRecord): Promise<DataKeyRecord> {
    record = checkStoreRecord(record);
    const list = this.#of(record.tenantId);
    const existing = list.find((r) => r.purpose === record.purpose && r.primary);
    if (existing) return clone(existing);
    list.push(clone({ ...record, primary: true }));
    return clone({ ...record, primary: true });
  }

  async promote(record: DataKeyRecord): Promise<void> {
    record = checkStoreRecord(record);
    const list = this.#of(record.tenantId);
    if (list.some((r) => r.keyId === record.keyId)) {
      throw new CryptoFieldsError('CRYPTO_KEY_STORE_FAILED', 'A data key with this id already exists', {
        details: { tenantId: record.tenantId, keyId: record.keyId },
      });
    }
    for (const r of list) if (r.purpose === record.purpose) r.primary = false;
    list.push(clone({ ...record, primary: true }));
  }

  async get(tenantId: string, keyId: string): Promise<DataKeyRecord | null> {
    checkStoreArgs(tenantId, keyId);
    const r = this.#keys.get(tenantId)?.find((k) => k.keyId === keyId);
    return r ? clone(r) : null;
  }

  async getPrimary(tenantId: string, purpose: DataKeyPurpose): Promise<DataKeyRecord | null> {
    checkStoreArgs(tenantId, undefined, purpose);
    const r = this.#keys.get(tenantId)?.find((k) => k.purpose === purpose && k.primary);
    return r ? clone(r) : null;
  }

  async list(tenantId: string): Promise<DataKeyRecord[]> {
    checkStoreArgs(tenantId);
    return (this.#keys.get(tenantId) ?? []).map(clone);
  }

  async tenantsNotWrappedBy(kekId: string): Promise<string[]> {
    checkKekId(kekId);
    return [...this.#keys.entries()].filter(([, l]) => l.some((r) => r.kekId !== kekId)).map(([t]) => t);
  }

  async rewrap(
    tenantId: string,
    keyId: string,
    expectedKekId: string,
    wrapped: { kekId: string; wrappedKey: string },
  ): Promise<boolean> {
    checkStoreArgs(tenantId, keyId);
    checkKekId(expectedKekId);
    checkWrapped(wrapped);
    const r = this.#keys.get(tenantId)?.find((k) => k.keyId === keyId);
    if (!r || r.kekId !== expectedKekId) return false;
    r.kekId = wrapped.kekId;
    r.wrappedKey = wrapped.wrappedKey;
    return true;
  }

  async deleteKey(tenantId: string, keyId: string): Promise<boolean> {
    checkStoreArgs(tenantId, keyId);
    const list = this.#keys.get(tenantId);
    const i = list?.findIndex((k) => k.keyId === keyId && !k.primary) ?? -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  async deleteTenant(tenantId: string): Promise<number> {
    checkStoreArgs(tenantId);
    const n = this.#keys.get(tenantId)?.length ?? 0;
    this.#keys.delete(tenantId);
    return n;
  }
}

/** In-process {@link CheckpointStore} for rotation jobs. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly name = 'memory';
  readonly #cps = new Map<string, RotationCheckpoint>();
  async load(jobId: string): Promise<RotationCheckpoint | null> {
    checkCheckpointArgs(jobId);
    const c = this.#cps.get(jobId);
    return c ? structuredClone(c) : null;
  }
  async save(jobId: string, checkpoint: RotationCheckpoint): Promise<void> {
    checkCheckpointArgs(jobId, checkpoint);
    this.#cps.set(jobId, JSON.parse(JSON.stringify(checkpoint)) as RotationCheckpoint);
  }
  async clear(jobId: string): Promise<void> {
    checkCheckpointArgs(jobId);
    this.#cps.delete(jobId);
  }
}
