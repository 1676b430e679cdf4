// The README's code is what users copy. A unit of work run by a role that row-level security does not
// bind (superuser, BYPASSRLS, the tables' owner) or on a table without RLS returns every tenant's rows,
// so every block that opens one must check RLS at start first (`assertRlsEnforced`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/^```(?:ts|typescript)\b[^\n]*\n([\s\S]*?)^```/gm)].map((m) => ({
  line: readme.slice(0, m.index).split('\n').length,
  code: m[1] ?? '',
}));
const opening = blocks.filter((b) => /\bcreateTenantUnitOfWork\(/.test(b.code));

describe('core README: quick starts check row-level security before their first unit of work', () => {
  it('finds the blocks that open a unit of work', () => {
    expect(opening.length).toBeGreaterThanOrEqual(2);
  });
  it.each(opening.map((b) => [b.line, b.code] as const))(
    'block at line %i calls assertRlsEnforced first',
    (_line, code) => {
      const check = code.search(/\bawait assertRlsEnforced\(/);
      expect(check).toBeGreaterThanOrEqual(0);
      expect(check).toBeLessThan(code.search(/\.run\(/) === -1 ? Infinity : code.search(/\.run\(/));
    },
  );
});
