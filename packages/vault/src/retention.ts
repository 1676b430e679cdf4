import type { VaultRuntime } from './runtime.js';
import { snapshotObjectKeys } from './snapshot/storage-keys.js';

/** What a prune did. */
export interface PruneReport {
  readonly tenantId: string;
  /** Snapshot ids whose objects and records were deleted. */
  readonly deleted: readonly string[];
  /** Snapshot ids kept. */
  readonly kept: readonly string[];
}

/** A snapshot still being written younger than this is never pruned (1 hour). */
const WRITING_GRACE_MS = 60 * 60 * 1000;

/**
 * Retention for one tenant: keeps the newest `keepLast` complete snapshots and every snapshot newer
 * than `newerThanMs` (either rule keeps a snapshot), deletes the rest (objects first, then the record).
 * Failed snapshots are deleted unless the age rule keeps them; one still being written is left alone
 * for an hour.
 */
export async function pruneSnapshots(
  rt: VaultRuntime,
  tenantId: string,
  rules: { keepLast?: number | undefined; newerThanMs?: number | undefined },
): Promise<PruneReport> {
  const now = rt.clock.now().getTime();
  const all = await rt.records.list(tenantId);
  const keepIds = new Set<string>();
  if (rules.keepLast !== undefined) {
    for (const r of all
      .filter((x) => x.status === 'complete' && x.kind === 'snapshot')
      .slice(0, rules.keepLast))
      keepIds.add(r.id);
  }
  for (const r of all) {
    if (rules.newerThanMs !== undefined && now - r.createdAt.getTime() < rules.newerThanMs) keepIds.add(r.id);
    if (r.status === 'writing' && now - r.createdAt.getTime() < WRITING_GRACE_MS) keepIds.add(r.id);
  }
  const deleted: string[] = [];
  for (const r of all) {
    if (keepIds.has(r.id)) continue;
    const keys = snapshotObjectKeys(rt.keyPrefix, tenantId, r.id);
    await rt.storage.delete(keys.manifest);
    await rt.storage.delete(keys.data);
    await rt.records.delete(tenantId, r.id);
    deleted.push(r.id);
  }
  return { tenantId, deleted, kept: all.filter((r) => keepIds.has(r.id)).map((r) => r.id) };
}
