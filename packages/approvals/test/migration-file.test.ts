import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { APPROVALS_MIGRATION_SQL, approvalsMigrations } from '../src/postgres.js';

// The SQL file shipped for users' migration tools and the SQL runMigrations applies must not drift.
const statements = (sql: string): string[] =>
  sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

describe('shipped migration', () => {
  it('migrations/001_tenantry_approvals.sql has exactly the statements of approvalsMigrations', () => {
    const file = readFileSync(new URL('../migrations/001_tenantry_approvals.sql', import.meta.url), 'utf8');
    expect(approvalsMigrations.map((m) => [m.component, m.version])).toEqual([['approvals', 1]]);
    expect(approvalsMigrations[0]!.sql).toBe(APPROVALS_MIGRATION_SQL);
    expect(statements(file)).toEqual(statements(APPROVALS_MIGRATION_SQL));
    expect(statements(file).length).toBeGreaterThan(5);
  });
});
