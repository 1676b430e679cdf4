import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sequencerMigrations } from '../src/postgres.js';

// The SQL file shipped for users' migration tools and the migration component runMigrations applies must not drift.
const statements = (sql: string): string[] =>
  sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

describe('shipped migration', () => {
  it('migrations/postgres/001_sequencer.sql has exactly the statements of sequencerMigrations version 1', () => {
    const file = readFileSync(new URL('../migrations/postgres/001_sequencer.sql', import.meta.url), 'utf8');
    expect(sequencerMigrations.map((m) => [m.component, m.version])).toEqual([['sequencer', 1]]);
    expect(statements(file)).toEqual(statements(sequencerMigrations[0]?.sql ?? ''));
    expect(statements(file).length).toBeGreaterThan(3);
  });
});
