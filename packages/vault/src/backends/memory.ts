import { VaultError } from '../errors.js';
import type { SnapshotListQuery, SnapshotRecord, SnapshotRecordStore } from '../snapshot-record-store.js';

const newestFirst = (a: SnapshotRecord, b: SnapshotRecord): number =>
  b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * In-memory {@link SnapshotRecordStore} (this process only); passes the same conformance suite as
 * the PostgreSQL and MongoDB stores.
 * @example const records = new MemorySnapshotRecordStore();
 */
export class MemorySnapshotRecordStore implements SnapshotRecordStore {
  readonly #rows = new Map<string, SnapshotRecord>();
  static #key = (tenantId: string, id: string): string => `${tenantId}\u0000${id}`;

  async insert(record: SnapshotRecord): Promise<void> {
    const key = MemorySnapshotRecordStore.#key(record.tenantId, record.id);
    if (this.#rows.has(key))
      throw new VaultError('VAULT_SNAPSHOT_EXISTS', 'A snapshot record with that id exists', {
        details: { snapshotId: record.id },
      });
    this.#rows.set(key, { ...record, createdAt: new Date(record.createdAt.getTime()) });
  }

  async finish(
    tenantId: string,
    id: string,
    patch: { status: 'complete' | 'failed'; checksum: string; size: number },
  ): Promise<boolean> {
    const key = MemorySnapshotRecordStore.#key(tenantId, id);
    const row = this.#rows.get(key);
    if (!row) return false;
    this.#rows.set(key, { ...row, ...patch });
    return true;
  }

  async get(tenantId: string, id: string): Promise<SnapshotRecord | null> {
    const row = this.#rows.get(MemorySnapshotRecordStore.#key(tenantId, id));
    return row ? { ...row, createdAt: new Date(row.createdAt.getTime()) } : null;
  }

  async list(tenantId: string, query: SnapshotListQuery = {}): Promise<SnapshotRecord[]> {
    const out = [...this.#rows.values()]
      .filter((r) => r.tenantId === tenantId)
      .filter((r) => query.before === undefined || r.createdAt.getTime() < query.before.getTime())
      .filter((r) => query.status === undefined || r.status === query.status)
      .filter((r) => query.kind === undefined || r.kind === query.kind)
      .sort(newestFirst)
      .map((r) => ({ ...r, createdAt: new Date(r.createdAt.getTime()) }));
    return query.limit === undefined ? out : out.slice(0, query.limit);
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    return this.#rows.delete(MemorySnapshotRecordStore.#key(tenantId, id));
  }
}
