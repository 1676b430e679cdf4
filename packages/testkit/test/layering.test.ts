import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/check-layering.mjs, run on a copy of the repository's package manifests and sources.
const repo = resolve(import.meta.dirname, '../../..');
const script = join(repo, 'scripts/check-layering.mjs');
// Planted imports are built from parts, so this file itself holds none for the check to find.
const ns = '@tenantry/';
const work = mkdtempSync(join(tmpdir(), 'layering-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function copyRepo(name: string): string {
  const dest = join(work, name);
  for (const group of ['packages', 'examples']) {
    cpSync(join(repo, group), join(dest, group), {
      recursive: true,
      filter: (src) => !/node_modules|[\\/]dist([\\/]|$)/.test(src),
    });
  }
  return dest;
}
const check = (root: string) => spawnSync(process.execPath, [script, root], { encoding: 'utf8' });

describe('layering check (CONTRIBUTING.md §1)', () => {
  it('passes on the repository as it is', () => {
    const r = check(repo);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('fails on a feature package importing another feature package', () => {
    const root = copyRepo('feature');
    writeFileSync(
      join(root, 'packages/sequencer/src/planted.ts'),
      `export { x } from '${ns}audit/postgres';\n`,
    );
    const r = check(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'packages/sequencer/src/planted.ts:1: @tenantry/sequencer may not import @tenantry/audit',
    );
  });

  it('fails on shipped code importing the private testkit, but lets tests use it', () => {
    const root = copyRepo('testkit');
    writeFileSync(join(root, 'packages/audit/src/planted.ts'), `const t = await import('${ns}testkit');\n`);
    writeFileSync(join(root, 'packages/audit/test/ok.test.ts'), `import { x } from '${ns}testkit';\n`);
    const r = check(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('packages/audit/src/planted.ts');
    expect(r.stderr).not.toContain('ok.test.ts');
  });

  it('fails on core importing anything of ours, and on a package missing from the table', () => {
    const root = copyRepo('core');
    writeFileSync(join(root, 'packages/tenancy-core/src/planted.ts'), `import '${ns}crypto-fields';\n`);
    mkdirSync(join(root, 'packages/newpkg'));
    writeFileSync(join(root, 'packages/newpkg/package.json'), JSON.stringify({ name: '@tenantry/newpkg' }));
    const r = check(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('@tenantry/core may not import @tenantry/crypto-fields');
    expect(r.stderr).toContain('@tenantry/newpkg: not in the layering table');
  });
});
