import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POSTGRES_MIGRATION_SQL } from '../src/postgres.js';

// The SQL file shipped for users' migration tools and the SQL migratePostgres runs must not drift.
const statements = (sql: string): string[] =>
  sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

describe('shipped migration', () => {
  it('migrations/postgres/001_sequencer.sql has exactly the statements migratePostgres runs', () => {
    const file = readFileSync(new URL('../migrations/postgres/001_sequencer.sql', import.meta.url), 'utf8');
    expect(statements(file)).toEqual(statements(POSTGRES_MIGRATION_SQL));
    expect(statements(file).length).toBeGreaterThan(3);
  });
});
