import { randomBytes } from 'node:crypto';
import { isTenantryError, runAsSystem, runAsTenant, MemoryAuditPort } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import {
  type SnapshotRecordStore,
  VaultError,
  type VaultProgress,
  createModuleRegistry,
  createVault,
} from '../src/index.js';
import { MemorySnapshotStorage } from '../src/memory.js';
import { MemoryTable, asTenant, memoryVault, newCrypto, readObject } from './helpers.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    if (isTenantryError(error)) return error.code;
    throw error;
  }
  return 'RESOLVED';
}

function app() {
  const users = new MemoryTable('users');
  const tasks = new MemoryTable('tasks', ['users']);
  const t = memoryVault([tasks.module(), users.module()]);
  for (const tenant of ['a', 'b', 'c']) {
    users.fill(tenant, 5);
    tasks.fill(tenant, 20);
  }
  return { users, tasks, ...t };
}

describe('snapshot and restore on memory modules', () => {
  it('restores one tenant exactly and leaves the others byte-identical (V1)', async () => {
    const { users, tasks, vault, maintenance, audit } = app();
    const snap = await asTenant('a', () => vault.snapshot());
    expect(snap.modules.map((m) => [m.name, m.records])).toEqual([
      ['users', 5],
      ['tasks', 20],
    ]);
    const aUsers = users.rows.get('a');
    const aTasks = tasks.rows.get('a');
    const othersBefore = JSON.stringify([
      users.rows.get('b'),
      users.rows.get('c'),
      tasks.rows.get('b'),
      tasks.rows.get('c'),
    ]);

    tasks.rows.set('a', ['{"changed":true}']);
    users.rows.delete('a');
    const report = await asTenant('a', () => vault.restore({ snapshotId: snap.snapshotId }));

    expect(report.modules).toEqual([
      { name: 'users', records: 5 },
      { name: 'tasks', records: 20 },
    ]);
    expect(users.rows.get('a')).toEqual(aUsers);
    expect(tasks.rows.get('a')).toEqual(aTasks);
    expect(
      JSON.stringify([users.rows.get('b'), users.rows.get('c'), tasks.rows.get('b'), tasks.rows.get('c')]),
    ).toBe(othersBefore);
    expect(maintenance.log).toEqual(['a:true', 'a:false']);
    const actions = audit.events.map((e) => e.action);
    expect(actions).toEqual([
      'vault.restore.started',
      'vault.restore.verified',
      'vault.maintenance.entered',
      'vault.restore.safety_snapshot',
      'vault.restore.completed',
      'vault.maintenance.exited',
    ]);
    expect(audit.events.every((e) => e.tenantId === 'a' && e.actor.id === 'admin-1')).toBe(true);
  });

  it('restores the latest complete snapshot before a time', async () => {
    const { tasks, vault } = app();
    const first = await asTenant('a', () => vault.snapshot());
    await new Promise((r) => setTimeout(r, 5));
    const cut = new Date();
    await new Promise((r) => setTimeout(r, 5));
    tasks.fill('a', 3, 'v2');
    await asTenant('a', () => vault.snapshot());
    tasks.fill('a', 1, 'v3');
    const report = await asTenant('a', () => vault.restore({ before: cut }));
    expect(report.snapshotId).toBe(first.snapshotId);
    expect(tasks.rows.get('a')).toHaveLength(20);
    expect(await codeOf(asTenant('a', () => vault.restore({ before: new Date(0) })))).toBe(
      'VAULT_SNAPSHOT_NOT_FOUND',
    );
  });

  it('restore({ before }) finds a snapshot behind more than 50 newer safety snapshots', async () => {
    const { tasks, users, vault, records, storage, crypto } = app();
    const first = await asTenant('a', () => vault.snapshot());
    const base = first.createdAt.getTime();
    for (let i = 1; i <= 120; i++) {
      await records.insert({
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        tenantId: 'a',
        kind: 'safety',
        status: 'writing',
        checksum: '',
        size: 0,
        createdBy: 'admin-1',
        createdAt: new Date(base + i * 1000),
      });
      await records.finish('a', `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, {
        status: 'complete',
        checksum: 'x',
        size: 1,
      });
    }
    tasks.fill('a', 3, 'v2');
    const later = new Date(base + 1_000_000);
    expect((await asTenant('a', () => vault.restore({ before: later }))).snapshotId).toBe(first.snapshotId);
    expect(tasks.rows.get('a')).toHaveLength(20);

    // A records store that ignores the kind filter: the vault pages back past the safety snapshots.
    const ignoringKind: SnapshotRecordStore = {
      insert: (r) => records.insert(r),
      finish: (t, id, patch) => records.finish(t, id, patch),
      get: (t, id) => records.get(t, id),
      delete: (t, id) => records.delete(t, id),
      list: (t, { kind: _kind, ...rest } = {}) => records.list(t, rest),
    };
    const v2 = createVault({
      registry: createModuleRegistry([tasks.module(), users.module()]),
      storage,
      records: ignoringKind,
      crypto,
    });
    tasks.fill('a', 3, 'v3');
    expect((await asTenant('a', () => v2.restore({ before: later }))).snapshotId).toBe(first.snapshotId);
    expect(tasks.rows.get('a')).toHaveLength(20);
  });

  it('a module whose import fails halfway leaves the tenant as before and out of maintenance (V3)', async () => {
    const { users, tasks, vault, maintenance, audit } = app();
    const snap = await asTenant('a', () => vault.snapshot());
    tasks.fill('a', 7, 'edited');
    users.fill('a', 2, 'edited');
    const before = users.dump() + tasks.dump();
    tasks.failImportAfter = 10;
    const error = await asTenant('a', () => vault.restore({ snapshotId: snap.snapshotId })).catch(
      (e: unknown) => e,
    );
    tasks.failImportAfter = undefined;
    expect(isTenantryError(error, 'VAULT_RESTORE_FAILED')).toBe(true);
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({
      module: 'tasks',
      step: 'import',
    });
    expect(users.dump() + tasks.dump()).toBe(before);
    expect(maintenance.on.size).toBe(0);
    expect(maintenance.log).toEqual(['a:true', 'a:false']);
    expect(audit.events.map((e) => e.action)).toContain('vault.restore.failed');
  });

  it("a failure to leave maintenance never hides the restore's own error, and is reported when it is the only one", async () => {
    const { tasks, vault, maintenance } = app();
    const snap = await asTenant('a', () => vault.snapshot());
    const original = maintenance.set.bind(maintenance);
    maintenance.set = async (tenantId, on) => {
      await original(tenantId, on);
      if (!on) throw new VaultError('VAULT_STORE_UNAVAILABLE', 'directory down');
    };
    tasks.failImportAfter = 2;
    tasks.failOnce = true;
    expect(await codeOf(asTenant('a', () => vault.restore({ snapshotId: snap.snapshotId })))).toBe(
      'VAULT_RESTORE_FAILED',
    );
    tasks.failImportAfter = undefined;
    expect(await codeOf(asTenant('a', () => vault.restore({ snapshotId: snap.snapshotId })))).toBe(
      'VAULT_STORE_UNAVAILABLE',
    );
    expect(tasks.rows.get('a')).toHaveLength(20);
  });

  it('refuses a snapshot of a newer schema, and upgrades an older one', async () => {
    const notesV1 = new MemoryTable('notes', [], 1);
    notesV1.fill('a', 3);
    const storage = new MemorySnapshotStorage();
    const crypto = newCrypto();
    const v1 = memoryVault([notesV1.module()], { storage, crypto });
    const snap = await asTenant('a', () => v1.vault.snapshot());

    const notesV2 = new MemoryTable('notes', [], 2);
    const upgraded = memoryVault(
      [notesV2.module({ upgrades: { 1: (r) => Buffer.from(`${Buffer.from(r).toString()}+v2`) } })],
      { storage, crypto },
    );
    // The record index is per vault; restore by id reads the storage, as a restore into another database does.
    const report = await asTenant('a', () => upgraded.vault.restore({ snapshotId: snap.snapshotId }));
    expect(report.modules).toEqual([{ name: 'notes', records: 3, upgradedFrom: 1 }]);
    expect(notesV2.rows.get('a')?.every((r) => r.endsWith('+v2'))).toBe(true);

    const noUpgrade = memoryVault([new MemoryTable('notes', [], 2).module()], { storage, crypto });
    expect(await codeOf(asTenant('a', () => noUpgrade.vault.restore({ snapshotId: snap.snapshotId })))).toBe(
      'VAULT_UPGRADE_MISSING',
    );

    const v2snap = await asTenant('a', () => upgraded.vault.snapshot());
    const older = new MemoryTable('notes', [], 1);
    older.fill('a', 1);
    const old = memoryVault([older.module()], { storage, crypto });
    expect(await codeOf(asTenant('a', () => old.vault.restore({ snapshotId: v2snap.snapshotId })))).toBe(
      'VAULT_SCHEMA_TOO_NEW',
    );
    expect(older.rows.get('a')).toHaveLength(1);
    expect(older.cleans).toBe(0);
  });

  it('reports progress (records, bytes) and streams large tenants in bounded chunks', async () => {
    const big = new MemoryTable('big');
    big.rows.set(
      'a',
      Array.from({ length: 20_000 }, (_, i) => `row-${i}-${randomBytes(30).toString('hex')}`),
    );
    const { vault } = memoryVault([big.module()]);
    const events: VaultProgress[] = [];
    const snap = await asTenant('a', () => vault.snapshot({ onProgress: (p) => events.push(p) }));
    expect(events.length).toBeGreaterThan(2);
    expect(events.at(-1)).toMatchObject({ operation: 'snapshot', records: 20_000 });
    const bytes = events.map((e) => e.bytes);
    expect([...bytes].sort((x, y) => x - y)).toEqual(bytes);
    expect(new Set(bytes).size).toBeGreaterThan(5);
    const verified: VaultProgress[] = [];
    await asTenant('a', () =>
      vault.verify({ snapshotId: snap.snapshotId, onProgress: (p) => verified.push(p) }),
    );
    expect(verified.at(-1)).toMatchObject({ operation: 'verify', records: 20_000, module: 'big' });
  });

  it('a failed snapshot is recorded as failed, its data object removed, and refused as incomplete', async () => {
    const broken = new MemoryTable('broken');
    broken.fill('a', 3);
    const { vault, storage } = memoryVault([
      broken.module({
        export: async function* () {
          yield Buffer.from('one');
          throw new Error('disk read error');
        },
      }),
    ]);
    const error = await asTenant('a', () => vault.snapshot()).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'VAULT_MODULE_FAILED',
      details: { module: 'broken', step: 'export' },
    });
    const [record] = await asTenant('a', () => vault.list());
    expect(record?.status).toBe('failed');
    const keys: string[] = [];
    for await (const o of storage.list('tenants/a/')) keys.push(o.key);
    expect(keys).toEqual([]);
    expect(await codeOf(asTenant('a', () => vault.restore({ snapshotId: record?.id as string })))).toBe(
      'VAULT_SNAPSHOT_INCOMPLETE',
    );
    expect(broken.cleans).toBe(0);
  });

  it('resolves the tenant with core (T1): no context, another tenant, system scope', async () => {
    const { vault } = app();
    expect(await codeOf(vault.snapshot())).toBe('TENANT_CONTEXT_MISSING');
    expect(await codeOf(asTenant('a', () => vault.snapshot({ tenantId: 'b' })))).toBe(
      'TENANT_CONTEXT_CONFLICT',
    );
    const snap = await runAsSystem(
      { actor: { id: 'ops', kind: 'service' }, reason: 'backup' },
      new MemoryAuditPort(),
      () => vault.snapshot({ tenantId: 'b' }),
    );
    expect(snap.tenantId).toBe('b');
    // A's context never finds B's snapshot.
    expect(await codeOf(asTenant('a', () => vault.verify({ snapshotId: snap.snapshotId })))).toBe(
      'VAULT_SNAPSHOT_NOT_FOUND',
    );
    expect(await asTenant('a', () => vault.list())).toEqual([]);
  });

  it('prunes by count and age, deleting objects and records', async () => {
    const { vault, storage } = app();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await asTenant('a', () => vault.snapshot())).snapshotId);
    await asTenant('b', () => vault.snapshot());
    const report = await asTenant('a', () => vault.prune({ keepLast: 2 }));
    expect([...report.deleted].sort()).toEqual(ids.slice(0, 2).sort());
    expect((await asTenant('a', () => vault.list())).map((r) => r.id)).toEqual(ids.slice(2).reverse());
    const keys: string[] = [];
    for await (const o of storage.list('tenants/a/')) keys.push(o.key);
    expect(keys).toHaveLength(4);
    expect(await asTenant('b', () => vault.list())).toHaveLength(1);
    expect((await asTenant('a', () => vault.prune({ newerThanMs: 3_600_000 }))).deleted).toEqual([]);
    expect((await asTenant('a', () => vault.prune({ keepLast: 0 }))).deleted).toHaveLength(2);
    expect(await codeOf(asTenant('a', () => vault.prune({})))).toBe('VALIDATION_FAILED');
  });

  it('writes a readable GDPR export: JSON lines per module, ciphertexts decrypted or withheld', async () => {
    const crypto = newCrypto();
    const people = new MemoryTable('people');
    const mod = people.module({ encryptedFields: { email: { collection: 'people', rowIdField: 'id' } } });
    const { vault, storage } = memoryVault([mod], { crypto });
    await runAsTenant({ tenantId: 'a', actor: { id: 'u' } }, async () => {
      const sealed = await crypto.seal('ann@example.com', {
        collection: 'people',
        field: 'email',
        rowId: '1',
      });
      const secret = await crypto.seal('x', { collection: 'other', field: 'y' });
      people.rows.set('a', [JSON.stringify({ id: 1, email: sealed, note: secret })]);
    });
    const report = await asTenant('a', () => vault.exportData());
    const lines = (await readObject(storage, `${report.prefix}people.jsonl`)).toString().trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toEqual({
      id: 1,
      email: 'ann@example.com',
      note: { withheld: true, reason: 'undeclared' },
    });
    const withheld = await asTenant('a', () => vault.exportData({ decrypt: false }));
    const line = JSON.parse((await readObject(storage, `${withheld.prefix}people.jsonl`)).toString());
    expect(line.email).toEqual({ withheld: true, reason: 'no-key' });
    const manifest = JSON.parse((await readObject(storage, `${report.prefix}manifest.json`)).toString());
    expect(manifest.modules[0]).toMatchObject({
      name: 'people',
      records: 1,
      withheld: 1,
      file: 'people.jsonl',
    });
  });
});
