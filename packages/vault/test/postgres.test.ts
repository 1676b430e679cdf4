import { MemoryAuditPort, isTenantryError, runAsSystem } from '@tenantry/core';
import { createTenantDirectory } from '@tenantry/core';
import { MemoryTenantStore } from '@tenantry/core/memory';
import { backendStatus, hasBackend, skipLabel } from '@tenantry/testkit';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { type VaultModule, createModuleRegistry, createVault, directoryMaintenance } from '../src/index.js';
import { MemorySnapshotStorage } from '../src/memory.js';
import {
  PostgresSnapshotRecordStore,
  createPostgresTransactionScope,
  postgresTableModule,
  recordModules,
} from '../src/postgres.js';
import { MemoryTable, asTenant, newCrypto, readObject, writeObject } from './helpers.js';
import { checksums, seed, useAppDatabases } from './pg-helpers.js';

const serverUrl = (): string => {
  const s = backendStatus('postgres');
  return s.available ? s.url : '';
};
const databases = hasBackend('postgres') ? useAppDatabases(serverUrl, 2) : () => [];
const TENANTS = ['acme', 'bolt', 'core'];
const sysAudit = new MemoryAuditPort();
const asSystem = <R>(fn: () => Promise<R>) =>
  runAsSystem({ actor: { id: 'ops', kind: 'service' }, reason: 'test' }, sysAudit, fn);

function pgModules(pool: pg.Pool) {
  const scope = createPostgresTransactionScope(pool);
  return {
    scope,
    users: postgresTableModule(scope, { table: 'users', encryptedFields: {} }),
    tasks: postgresTableModule(scope, { table: 'tasks', dependsOn: ['users'] }),
    comments: postgresTableModule(scope, { table: 'comments', dependsOn: ['tasks'] }),
  };
}

describe.skipIf(!hasBackend('postgres'))(
  `vault on PostgreSQL with RLS, three tenants${skipLabel('postgres')}`,
  () => {
    const storage = new MemorySnapshotStorage();
    const crypto = newCrypto();
    const directory = createTenantDirectory({ store: new MemoryTenantStore() });
    let db: { admin: pg.Pool; app: pg.Pool };
    let db2: { admin: pg.Pool; app: pg.Pool };

    const build = (
      pool: pg.Pool,
      extra: (m: ReturnType<typeof pgModules>) => VaultModule[] = (m) => [m.comments, m.tasks, m.users],
    ) => {
      const modules = pgModules(pool);
      const registry = createModuleRegistry(extra(modules));
      const audit = new MemoryAuditPort();
      const vault = createVault({
        registry,
        storage,
        records: new PostgresSnapshotRecordStore({ pool }),
        crypto,
        audit,
        maintenance: directoryMaintenance(directory),
      });
      return { vault, registry, audit, modules };
    };

    beforeAll(async () => {
      [db, db2] = databases() as [typeof db, typeof db2];
      await asSystem(async () => {
        for (const t of TENANTS) {
          await directory.createTenant({ id: t, name: t });
          await directory.activateTenant(t);
        }
      });
      for (const t of TENANTS) await seed(db.admin, t);
    });

    it('snapshot A, change and delete A, restore: A equals the snapshot, B and C byte-identical (V1, V3)', async () => {
      const { vault, audit, registry } = build(db.app);
      expect(await recordModules(db.admin, registry)).toBe(3);
      const recorded = await db.admin.query(
        'SELECT name, schema_version, depends_on FROM tenantry_vault_modules ORDER BY name',
      );
      expect(recorded.rows).toEqual([
        { name: 'comments', schema_version: 1, depends_on: ['tasks'] },
        { name: 'tasks', schema_version: 1, depends_on: ['users'] },
        { name: 'users', schema_version: 1, depends_on: [] },
      ]);
      await expect(recordModules(db.app, registry)).rejects.toMatchObject({ code: 'VAULT_STORE_FAILED' });
      const atSnapshot = await checksums(db.admin, 'acme');
      const others = { bolt: await checksums(db.admin, 'bolt'), core: await checksums(db.admin, 'core') };
      const snap = await asTenant('acme', () => vault.snapshot());
      expect(snap.modules.map((m) => [m.name, m.records])).toEqual([
        ['users', 10],
        ['tasks', 50],
        ['comments', 100],
      ]);

      await db.admin.query(`DELETE FROM comments WHERE tenant_id = 'acme' AND id % 3 = 0`);
      await db.admin.query(`UPDATE tasks SET title = 'changed', done = NOT done WHERE tenant_id = 'acme'`);
      await db.admin.query(`INSERT INTO users (tenant_id, name) VALUES ('acme', 'intruder')`);
      expect(await checksums(db.admin, 'acme')).not.toEqual(atSnapshot);

      const report = await asTenant('acme', () => vault.restore({ snapshotId: snap.snapshotId }));
      expect(report.mode).toBe('transaction');
      expect(await checksums(db.admin, 'acme')).toEqual(atSnapshot);
      expect({ bolt: await checksums(db.admin, 'bolt'), core: await checksums(db.admin, 'core') }).toEqual(
        others,
      );
      expect((await directory.store.getTenant('acme'))?.maintenance).toBe(false);
      expect(audit.events.map((e) => e.action)).toEqual([
        'vault.restore.started',
        'vault.restore.verified',
        'vault.maintenance.entered',
        'vault.restore.completed',
        'vault.maintenance.exited',
      ]);
      const listed = await asTenant('acme', () => vault.list());
      expect(listed[0]).toMatchObject({
        id: snap.snapshotId,
        status: 'complete',
        kind: 'snapshot',
        checksum: snap.checksum,
        createdBy: 'admin-1',
      });
      expect(await asTenant('bolt', () => vault.list())).toEqual([]);
    });

    it('a module whose import fails halfway (a constraint in the database) leaves the tenant exactly as before, out of maintenance', async () => {
      const { vault } = build(db.app);
      const snap = await asTenant('bolt', () => vault.snapshot());
      await db.admin.query(`UPDATE comments SET body = 'short' WHERE tenant_id = 'bolt'`);
      await db.admin.query(`DELETE FROM comments WHERE tenant_id = 'bolt' AND id % 2 = 0`);
      const before = await checksums(db.admin, 'bolt');
      const others = { acme: await checksums(db.admin, 'acme'), core: await checksums(db.admin, 'core') };
      // The snapshot's comments are longer than 8 characters: COPY fails on the first of them.
      await db.admin.query(
        `ALTER TABLE comments ADD CONSTRAINT short_body CHECK (length(body) < 8) NOT VALID`,
      );
      try {
        const error = await asTenant('bolt', () => vault.restore({ snapshotId: snap.snapshotId })).catch(
          (e: unknown) => e,
        );
        expect(isTenantryError(error, 'VAULT_RESTORE_FAILED')).toBe(true);
        expect((error as { details: object }).details).toMatchObject({ module: 'comments', step: 'import' });
      } finally {
        await db.admin.query('ALTER TABLE comments DROP CONSTRAINT short_body');
      }
      expect(await checksums(db.admin, 'bolt')).toEqual(before);
      expect({ acme: await checksums(db.admin, 'acme'), core: await checksums(db.admin, 'core') }).toEqual(
        others,
      );
      expect((await directory.store.getTenant('bolt'))?.maintenance).toBe(false);
    });

    it('a module that catches a failed statement during import: COMMIT rolls back, the restore fails (VAULT_RESTORE_FAILED), the tenant is exactly as before', async () => {
      const { vault } = build(db.app, (m) => [
        m.users,
        m.tasks,
        {
          ...m.comments,
          // The last module imported: it imports its rows, then runs a statement that fails and
          // swallows the error. The transaction is aborted, and the COMMIT the scope sends next rolls
          // everything back.
          import: async (ctx, records) => {
            const report = await m.comments.import(ctx, records);
            await (ctx.transaction as pg.PoolClient).query('SELECT 1/0').catch(() => undefined);
            return report;
          },
        },
      ]);
      const snap = await asTenant('core', () => vault.snapshot());
      await db.admin.query(`DELETE FROM comments WHERE tenant_id = 'core' AND id % 2 = 0`);
      const before = await checksums(db.admin, 'core');
      const error = await asTenant('core', () => vault.restore({ snapshotId: snap.snapshotId })).catch(
        (e: unknown) => e,
      );
      expect(isTenantryError(error, 'VAULT_RESTORE_FAILED')).toBe(true);
      expect((error as { details: object }).details).toMatchObject({
        causeCode: 'VAULT_MODULE_FAILED',
        step: 'commit',
      });
      expect(await checksums(db.admin, 'core')).toEqual(before);
      expect((await directory.store.getTenant('core'))?.maintenance).toBe(false);
    });

    it('in maintenance during the restore; a corrupted snapshot is refused before any row is deleted', async () => {
      let seen: boolean | undefined;
      const { vault } = build(db.app, (m) => [
        m.users,
        m.tasks,
        {
          ...m.comments,
          import: async (ctx, records) => {
            seen = (await directory.store.getTenant('core'))?.maintenance;
            await m.comments.import(ctx, records);
          },
        },
      ]);
      const snap = await asTenant('core', () => vault.snapshot());
      await asTenant('core', () => vault.restore({ snapshotId: snap.snapshotId }));
      expect(seen).toBe(true);

      const key = `tenants/core/snapshots/${snap.snapshotId}.data`;
      const data = await readObject(storage, key);
      const before = await checksums(db.admin, 'core');
      for (const i of [0, 7, Math.floor(data.byteLength / 2), data.byteLength - 1]) {
        const bad = Buffer.from(data);
        bad[i] = (bad[i] as number) ^ 0x20;
        await writeObject(storage, key, bad);
        await expect(
          asTenant('core', () => vault.restore({ snapshotId: snap.snapshotId })),
        ).rejects.toMatchObject({ code: 'VAULT_SNAPSHOT_CORRUPT' });
        expect(await checksums(db.admin, 'core')).toEqual(before);
      }
      await writeObject(storage, key, data);
    });

    it('restores into another database the same way (staging to production)', async () => {
      const source = build(db.app);
      const target = build(db2.app);
      const snap = await asTenant('acme', () => source.vault.snapshot());
      // Identity keys are global in this schema: the target's own rows use another range (see README, limits).
      for (const t of ['users', 'tasks', 'comments'])
        await db2.admin.query(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), 1000000)`);
      await seed(db2.admin, 'bolt', 2, 2, 1);
      const bolt2 = await checksums(db2.admin, 'bolt');
      const report = await asTenant('acme', () => target.vault.restore({ snapshotId: snap.snapshotId }));
      expect(report.modules.map((m) => m.records)).toEqual([10, 50, 100]);
      expect(await checksums(db2.admin, 'acme')).toEqual(await checksums(db.admin, 'acme'));
      expect(await checksums(db2.admin, 'bolt')).toEqual(bolt2);
    });

    it('with a module outside the database: safety snapshot first, restored automatically when an import fails', async () => {
      const notes = new MemoryTable('notes', ['users']);
      notes.fill('acme', 5);
      const { vault } = build(db.app, (m) => [m.users, m.tasks, m.comments, notes.module()]);
      const snap = await asTenant('acme', () => vault.snapshot());
      await db.admin.query(`UPDATE tasks SET title = 'edited after snapshot' WHERE tenant_id = 'acme'`);
      notes.fill('acme', 2, 'edited');
      const before = await checksums(db.admin, 'acme');
      const notesBefore = notes.dump();
      notes.failImportAfter = 3;
      const error = await asTenant('acme', () => vault.restore({ snapshotId: snap.snapshotId })).catch(
        (e: unknown) => e,
      );
      notes.failImportAfter = undefined;
      expect(isTenantryError(error, 'VAULT_RESTORE_FAILED')).toBe(true);
      expect(await checksums(db.admin, 'acme')).toEqual(before);
      expect(notes.dump()).toBe(notesBefore);
      expect((await directory.store.getTenant('acme'))?.maintenance).toBe(false);

      const ok = await asTenant('acme', () => vault.restore({ snapshotId: snap.snapshotId }));
      expect(ok.mode).toBe('safety-snapshot');
      expect(ok.safetySnapshotId).toMatch(/^[0-9a-f-]{36}$/);
      expect(notes.rows.get('acme')).toHaveLength(5);
    });

    it('direct COPY where RLS does not apply: a row refused mid-COPY rolls back, and the connection stays usable', async () => {
      const scope = createPostgresTransactionScope(db.admin, { requireRls: false });
      const users = postgresTableModule(scope, { table: 'users', importVia: 'copy' });
      const tasks = postgresTableModule(scope, { table: 'tasks', dependsOn: ['users'], importVia: 'copy' });
      const comments = postgresTableModule(scope, {
        table: 'comments',
        dependsOn: ['tasks'],
        importVia: 'copy',
      });
      const vault = createVault({
        registry: createModuleRegistry([users, tasks, comments]),
        storage,
        records: new PostgresSnapshotRecordStore({ pool: db.admin }),
        crypto,
      });
      const snap = await asTenant('core', () => vault.snapshot());
      await db.admin.query(`DELETE FROM comments WHERE tenant_id = 'core' AND id % 2 = 1`);
      const before = await checksums(db.admin, 'core');
      await db.admin.query(
        `ALTER TABLE comments ADD CONSTRAINT short_body2 CHECK (length(body) < 8) NOT VALID`,
      );
      try {
        await expect(
          asTenant('core', () => vault.restore({ snapshotId: snap.snapshotId })),
        ).rejects.toMatchObject({ code: 'VAULT_RESTORE_FAILED' });
      } finally {
        await db.admin.query('ALTER TABLE comments DROP CONSTRAINT short_body2');
      }
      expect(await checksums(db.admin, 'core')).toEqual(before);
      const ok = await asTenant('core', () => vault.restore({ snapshotId: snap.snapshotId }));
      expect(ok.mode).toBe('transaction');
      expect((await checksums(db.admin, 'core')).comments).not.toEqual(before.comments);
    });

    it('an export aborted midway ends cleanly and leaves no connection stuck', async () => {
      await seed(db.admin, 'big', 50, 40, 1);
      const { vault } = build(db.app);
      const controller = new AbortController();
      const error = await asTenant('big', () =>
        vault.snapshot({
          signal: controller.signal,
          onProgress: (p) => {
            if (p.records > 500) controller.abort();
          },
        }),
      ).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('VAULT_ABORTED');
      const failed = await asTenant('big', () => vault.list());
      expect(failed[0]?.status).toBe('failed');
      // Every pooled connection still answers (a stuck COPY would hang this).
      await Promise.all(Array.from({ length: 4 }, () => db.app.query('SELECT 1')));
      const snap = await asTenant('big', () => vault.snapshot());
      expect(snap.modules.find((m) => m.name === 'tasks')?.records).toBe(2000);
    });

    it('GDPR export of PostgreSQL rows as JSON lines', async () => {
      const { vault } = build(db.app);
      const target = new MemorySnapshotStorage();
      const report = await asTenant('acme', () => vault.exportData({ target }));
      expect(report.modules.map((m) => [m.name, m.records])).toEqual([
        ['users', 10],
        ['tasks', 50],
        ['comments', 100],
      ]);
      const tasks = (await readObject(target, `${report.prefix}tasks.jsonl`))
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const row = (
        await db.admin.query(`SELECT id::text, title FROM tasks WHERE tenant_id = 'acme' ORDER BY id LIMIT 1`)
      ).rows[0];
      expect(tasks.find((t) => t.id === row.id)?.title).toBe(row.title);
      expect(Object.keys(tasks[0])).not.toContain('tenant_id');
    });

    it('refuses a connection that bypasses RLS (superuser), as core does', async () => {
      const { vault } = build(db.admin);
      const error = await asTenant('acme', () => vault.snapshot()).catch((e: unknown) => e);
      expect(isTenantryError(error)).toBe(true);
      expect(['RLS_SUPERUSER', 'VAULT_MODULE_FAILED']).toContain((error as { code: string }).code);
    });
  },
);
