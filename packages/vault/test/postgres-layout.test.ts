import { isTenantryError } from '@tenantry/core';
import { backendStatus, hasBackend, skipLabel } from '@tenantry/testkit';
import type pg from 'pg';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createModuleRegistry, createVault } from '../src/index.js';
import { MemorySnapshotRecordStore, MemorySnapshotStorage } from '../src/memory.js';
import { createPostgresTransactionScope, postgresTableModule } from '../src/postgres.js';
import { asTenant, newCrypto, readObject } from './helpers.js';
import { useAppDatabases } from './pg-helpers.js';

const serverUrl = (): string => {
  const s = backendStatus('postgres');
  return s.available ? s.url : '';
};
const databases = hasBackend('postgres') ? useAppDatabases(serverUrl, 1) : () => [];

describe.skipIf(!hasBackend('postgres'))(`postgresTableModule column layout${skipLabel('postgres')}`, () => {
  let db: { admin: pg.Pool; app: pg.Pool };
  const crypto = newCrypto();

  beforeAll(async () => {
    [db] = databases() as [typeof db];
  });

  beforeEach(async () => {
    const role = (await db.app.query<{ r: string }>('SELECT current_user AS r')).rows[0]?.r as string;
    await db.admin.query(`DROP TABLE IF EXISTS notes;
      CREATE TABLE notes (tenant_id text NOT NULL, a text, b text);
      ALTER TABLE notes ENABLE ROW LEVEL SECURITY; ALTER TABLE notes FORCE ROW LEVEL SECURITY;
      CREATE POLICY p ON notes USING (tenant_id = current_setting('app.tenant_id', true))
        WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
      GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO ${role};
      INSERT INTO notes VALUES ('acme', 'a-value', 'b-value');`);
  });

  const build = () => {
    const storage = new MemorySnapshotStorage();
    const scope = createPostgresTransactionScope(db.app);
    const registry = createModuleRegistry([postgresTableModule(scope, { table: 'notes' })]);
    const vault = createVault({ registry, storage, records: new MemorySnapshotRecordStore(), crypto });
    return { vault, storage };
  };
  const rows = async () =>
    (await db.admin.query('SELECT tenant_id, a, b FROM notes ORDER BY a')).rows as Array<
      Record<string, string | null>
    >;

  it('records the exported columns and their types in the authenticated manifest', async () => {
    const { vault, storage } = build();
    const s = await asTenant('acme', () => vault.snapshot());
    const key = `tenants/acme/snapshots/${s.snapshotId}.manifest.json`;
    const manifest = JSON.parse((await readObject(storage, key)).toString('utf8'));
    expect(manifest.modules[0].layout).toEqual({
      columns: [
        { name: 'a', type: 'text' },
        { name: 'b', type: 'text' },
      ],
    });
  });

  it('imports by column name after the column order changed', async () => {
    const { vault } = build();
    const s = await asTenant('acme', () => vault.snapshot());
    // a moves behind b: same names and types, another order.
    await db.admin.query(
      'ALTER TABLE notes RENAME COLUMN a TO a_old; ALTER TABLE notes ADD COLUMN a text; UPDATE notes SET a = a_old; ALTER TABLE notes DROP COLUMN a_old',
    );
    await asTenant('acme', () => vault.restore({ snapshotId: s.snapshotId }));
    expect(await rows()).toEqual([{ tenant_id: 'acme', a: 'a-value', b: 'b-value' }]);
  });

  it('refuses with VAULT_SCHEMA_MISMATCH, before deleting anything, when a column is missing', async () => {
    const { vault } = build();
    const s = await asTenant('acme', () => vault.snapshot());
    await db.admin.query(`ALTER TABLE notes DROP COLUMN b; INSERT INTO notes VALUES ('acme', 'later')`);
    const error = await asTenant('acme', () => vault.restore({ snapshotId: s.snapshotId })).catch((e) => e);
    expect(isTenantryError(error, 'VAULT_SCHEMA_MISMATCH')).toBe(true);
    expect(error.status).toBe(409);
    expect(error.details).toMatchObject({ module: 'notes', column: 'b' });
    expect((await db.admin.query('SELECT a FROM notes ORDER BY a')).rows).toEqual([
      { a: 'a-value' },
      { a: 'later' },
    ]);
  });

  it('refuses with VAULT_SCHEMA_MISMATCH when a column changed type', async () => {
    const { vault } = build();
    const s = await asTenant('acme', () => vault.snapshot());
    await db.admin.query(
      `ALTER TABLE notes ALTER COLUMN b TYPE varchar(20); INSERT INTO notes VALUES ('acme', 'later', 'x')`,
    );
    const error = await asTenant('acme', () => vault.restore({ snapshotId: s.snapshotId })).catch((e) => e);
    expect(isTenantryError(error, 'VAULT_SCHEMA_MISMATCH')).toBe(true);
    expect(error.details).toMatchObject({
      column: 'b',
      snapshotType: 'text',
      currentType: 'character varying(20)',
    });
    expect(await rows()).toHaveLength(2);
  });

  it('a column added since the snapshot gets its default', async () => {
    const { vault } = build();
    const s = await asTenant('acme', () => vault.snapshot());
    await db.admin.query(`ALTER TABLE notes ADD COLUMN c text DEFAULT 'dflt'`);
    await asTenant('acme', () => vault.restore({ snapshotId: s.snapshotId }));
    expect((await db.admin.query('SELECT a, b, c FROM notes')).rows).toEqual([
      { a: 'a-value', b: 'b-value', c: 'dflt' },
    ]);
  });
});
