import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VAULT_MIGRATION_SQL, vaultMigrations } from '../src/postgres.js';

// The SQL file shipped for users' migration tools and the SQL runMigrations applies must not drift.
const statements = (sql: string): string[] =>
  sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

describe('shipped migration', () => {
  it('migrations/001_tenantry_vault.sql has exactly the statements of vaultMigrations', () => {
    const file = readFileSync(new URL('../migrations/001_tenantry_vault.sql', import.meta.url), 'utf8');
    expect(vaultMigrations.map((m) => [m.component, m.version])).toEqual([['vault', 1]]);
    expect(vaultMigrations[0]?.sql).toBe(VAULT_MIGRATION_SQL);
    expect(statements(file)).toEqual(statements(VAULT_MIGRATION_SQL));
    expect(statements(file).length).toBe(3);
  });
});
