import { randomBytes } from 'node:crypto';
import { isTenantryError, uuidv7 } from '@tenantry/core';
import type { SuiteApi } from '@tenantry/core/testing';
import type { SnapshotRecord, SnapshotRecordStore } from '../snapshot-record-store.js';

/** What {@link snapshotRecordStoreConformance} needs: a store (fresh or shared; the suite uses unique tenants). */
export interface SnapshotRecordStoreHarness {
  readonly store: SnapshotRecordStore;
}

const tenant = (): string => `t-${randomBytes(6).toString('hex')}`;
const record = (tenantId: string, createdAt: Date, extra: Partial<SnapshotRecord> = {}): SnapshotRecord => ({
  id: uuidv7(),
  tenantId,
  kind: 'snapshot',
  status: 'writing',
  checksum: '',
  size: 0,
  createdBy: 'admin-1',
  createdAt,
  ...extra,
});

/**
 * The contract of a {@link SnapshotRecordStore} (the `tenantry_vault_snapshots` index): round trip,
 * finish, newest-first listing with `before`/`status`/`limit`, delete, duplicate ids refused with
 * `VAULT_SNAPSHOT_EXISTS`, and no tenant ever sees another's records. Run it against your own store.
 * @example snapshotRecordStoreConformance(() => ({ store: new MemorySnapshotRecordStore() }), { describe, it, expect });
 */
export function snapshotRecordStoreConformance(
  harness: () => SnapshotRecordStoreHarness,
  api: SuiteApi,
): void {
  const { describe, it, expect } = api;
  describe('snapshot record store conformance', () => {
    it('stores a record and returns it as written; finish completes it', async () => {
      const { store } = harness();
      const t = tenant();
      const r = record(t, new Date('2030-01-02T03:04:05.678Z'));
      await store.insert(r);
      expect(await store.get(t, r.id)).toEqual(r);
      expect(await store.finish(t, r.id, { status: 'complete', checksum: 'ab'.repeat(32), size: 1234 })).toBe(
        true,
      );
      expect(await store.get(t, r.id)).toEqual({
        ...r,
        status: 'complete',
        checksum: 'ab'.repeat(32),
        size: 1234,
      });
      expect(await store.finish(t, uuidv7(), { status: 'failed', checksum: '', size: 0 })).toBe(false);
      expect(await store.get(t, uuidv7())).toBeNull();
    });

    it('refuses a duplicate id with VAULT_SNAPSHOT_EXISTS', async () => {
      const { store } = harness();
      const t = tenant();
      const r = record(t, new Date());
      await store.insert(r);
      let code = 'resolved';
      try {
        await store.insert({ ...r, createdBy: 'other' });
      } catch (e) {
        code = isTenantryError(e) ? e.code : 'untyped';
      }
      expect(code).toBe('VAULT_SNAPSHOT_EXISTS');
      expect((await store.get(t, r.id))?.createdBy).toBe('admin-1');
    });

    it('lists newest first, filters by before, status and limit', async () => {
      const { store } = harness();
      const t = tenant();
      const base = Date.parse('2030-01-01T00:00:00Z');
      const rs = [0, 1, 2, 3].map((i) =>
        record(t, new Date(base + i * 60_000), { status: i % 2 === 0 ? 'complete' : 'failed' }),
      );
      for (const r of [rs[2], rs[0], rs[3], rs[1]] as SnapshotRecord[]) await store.insert(r);
      const ids = (xs: SnapshotRecord[]) => xs.map((x) => x.id);
      expect(ids(await store.list(t))).toEqual(ids([...rs].reverse()));
      expect(ids(await store.list(t, { before: new Date(base + 2 * 60_000) }))).toEqual([
        rs[1]?.id,
        rs[0]?.id,
      ]);
      expect(ids(await store.list(t, { status: 'complete' }))).toEqual([rs[2]?.id, rs[0]?.id]);
      expect(ids(await store.list(t, { limit: 1 }))).toEqual([rs[3]?.id]);
      expect(
        ids(await store.list(t, { status: 'complete', before: new Date(base + 60_000), limit: 5 })),
      ).toEqual([rs[0]?.id]);
    });

    it('filters by kind', async () => {
      const { store } = harness();
      const t = tenant();
      const base = Date.parse('2030-01-01T00:00:00Z');
      const rs = [0, 1, 2].map((i) =>
        record(t, new Date(base + i * 60_000), { kind: i === 0 ? 'snapshot' : 'safety' }),
      );
      for (const r of rs) await store.insert(r);
      const ids = (xs: SnapshotRecord[]) => xs.map((x) => x.id);
      expect(ids(await store.list(t, { kind: 'snapshot', limit: 1 }))).toEqual([rs[0]?.id]);
      expect(ids(await store.list(t, { kind: 'safety' }))).toEqual([rs[2]?.id, rs[1]?.id]);
    });

    it('deletes one record; deleting it again answers false', async () => {
      const { store } = harness();
      const t = tenant();
      const a = record(t, new Date());
      const b = record(t, new Date());
      await store.insert(a);
      await store.insert(b);
      expect(await store.delete(t, a.id)).toBe(true);
      expect(await store.delete(t, a.id)).toBe(false);
      expect((await store.list(t)).map((r) => r.id)).toEqual([b.id]);
    });

    it("never shows, finishes or deletes another tenant's records", async () => {
      const { store } = harness();
      const a = tenant();
      const b = tenant();
      const rb = record(b, new Date());
      await store.insert(rb);
      expect(await store.get(a, rb.id)).toBeNull();
      expect(await store.list(a)).toEqual([]);
      expect(await store.finish(a, rb.id, { status: 'failed', checksum: '', size: 0 })).toBe(false);
      expect(await store.delete(a, rb.id)).toBe(false);
      expect((await store.get(b, rb.id))?.status).toBe('writing');
    });
  });
}
