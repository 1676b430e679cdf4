import { z } from 'zod';

/** Status of a snapshot record: being written, complete (usable), or failed (its objects may be partial). */
export const SnapshotStatusSchema = z.enum(['writing', 'complete', 'failed']);
export type SnapshotStatus = z.infer<typeof SnapshotStatusSchema>;

/** One row of `tenantry_vault_snapshots`. */
export interface SnapshotRecord {
  readonly id: string;
  readonly tenantId: string;
  /** `snapshot` (taken on request) or `safety` (taken by a restore before it changed anything). */
  readonly kind: 'snapshot' | 'safety';
  readonly status: SnapshotStatus;
  /** SHA-256 (hex) of the data object; empty until complete. */
  readonly checksum: string;
  /** Bytes of the data object plus manifest; 0 until complete. */
  readonly size: number;
  /** Actor id of whoever took it. */
  readonly createdBy: string;
  readonly createdAt: Date;
}

/** Filter of {@link SnapshotRecordStore.list}. */
export interface SnapshotListQuery {
  /** Only snapshots created strictly before this instant. */
  readonly before?: Date;
  /** Only this status. */
  readonly status?: SnapshotStatus;
  /** Only this kind (`snapshot` or `safety`). */
  readonly kind?: SnapshotRecord['kind'];
  /** At most this many (newest first). */
  readonly limit?: number;
}

/**
 * Where the vault keeps the index of snapshots (`tenantry_vault_snapshots`). Every method takes an
 * already-resolved tenant and never returns another tenant's records. The storage objects are the
 * truth; the records are the index a restore "before a time" and retention use.
 */
export interface SnapshotRecordStore {
  /** Inserts a new record (status `writing`). */
  insert(record: SnapshotRecord): Promise<void>;
  /** Marks the record complete or failed with its checksum and size; `false` if absent. */
  finish(
    tenantId: string,
    id: string,
    patch: { status: 'complete' | 'failed'; checksum: string; size: number },
  ): Promise<boolean>;
  /** The record, or `null`. */
  get(tenantId: string, id: string): Promise<SnapshotRecord | null>;
  /** The tenant's records, newest first (by `createdAt`, then id). */
  list(tenantId: string, query?: SnapshotListQuery): Promise<SnapshotRecord[]>;
  /** Deletes the record; `false` if absent. */
  delete(tenantId: string, id: string): Promise<boolean>;
}
