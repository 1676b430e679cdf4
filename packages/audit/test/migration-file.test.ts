import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditGrantsSql, auditMigrationSql, auditMigrations } from '../src/postgres.js';

const dir = new URL('../migrations/', import.meta.url);

describe('shipped migrations', () => {
  it('migrations/NNN_*.sql are exactly the auditMigrations components, in version order', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort();
    expect(files.map((f) => Number(f.slice(0, 3)))).toEqual(auditMigrations.map((m) => m.version));
    for (const [i, f] of files.entries()) {
      expect(readFileSync(new URL(f, dir), 'utf8'), f).toBe(auditMigrations[i]!.sql);
    }
    expect(auditMigrations.every((m) => m.component === 'audit')).toBe(true);
    expect(auditMigrations[0]!.sql).toBe(auditMigrationSql());
  });

  it('refuses identifiers that could inject SQL with VALIDATION_FAILED', () => {
    for (const bad of [
      { schema: 'public"; DROP TABLE x; --' },
      { prefix: 'Upper' },
      { prefix: 'x'.repeat(42) },
    ]) {
      expect(() => auditMigrationSql(bad)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
    expect(() => auditGrantsSql('app"; DROP ROLE x; --')).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(auditGrantsSql('app_user')).toContain('TO "app_user"');
  });
});
