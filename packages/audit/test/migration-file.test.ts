import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditMigrationSql } from '../src/postgres.js';

describe('shipped migration', () => {
  it('migrations/001_tenantry_audit.sql is exactly auditMigrationSql() for the default names', () => {
    const file = readFileSync(new URL('../migrations/001_tenantry_audit.sql', import.meta.url), 'utf8');
    expect(file).toBe(auditMigrationSql());
  });

  it('refuses identifiers that could inject SQL', () => {
    expect(() => auditMigrationSql({ schema: 'public"; DROP TABLE x; --' })).toThrow(TypeError);
  });
});
