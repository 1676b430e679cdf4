#!/usr/bin/env node
// Layering check (CONTRIBUTING.md §1): which workspace package may import which. Fails on any import of a
// workspace package that the table does not allow, in a package's src/ (what ships) and in its test/ and
// bench/ (where only @tenantry/testkit is added). Usage: node scripts/check-layering.mjs [root]
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.argv[2] ?? process.cwd();

/** npm name → workspace packages its shipped code may import. */
const ALLOWED = {
  '@tenantry/core': [],
  '@tenantry/sequencer': ['@tenantry/core'],
  '@tenantry/crypto-fields': ['@tenantry/core'],
  '@tenantry/audit': ['@tenantry/core'],
  '@tenantry/approvals': ['@tenantry/core'],
  '@tenantry/vault': ['@tenantry/core', '@tenantry/crypto-fields'],
  '@tenantry/http': ['@tenantry/core'],
  '@tenantry/express': [
    '@tenantry/core',
    '@tenantry/http',
    '@tenantry/sequencer',
    '@tenantry/crypto-fields',
    '@tenantry/audit',
    '@tenantry/approvals',
    '@tenantry/vault',
  ],
  '@tenantry/nest': [
    '@tenantry/core',
    '@tenantry/http',
    '@tenantry/sequencer',
    '@tenantry/crypto-fields',
    '@tenantry/audit',
    '@tenantry/approvals',
    '@tenantry/vault',
  ],
  '@tenantry/testkit': ['@tenantry/core'],
};
/** Tests and benchmarks may also use the private test infrastructure. */
const TEST_EXTRA = ['@tenantry/testkit'];

const IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](@tenantry\/[a-z0-9-]+)(?:\/[^'"]*)?['"]/gm;

function* files(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(c|m)?[jt]sx?$/.test(name)) yield p;
  }
}

const problems = [];
let workspaces = 0;
for (const group of ['packages', 'examples']) {
  const base = join(root, group);
  if (!existsSync(base)) continue;
  for (const dir of readdirSync(base).sort()) {
    const pkgFile = join(base, dir, 'package.json');
    if (!existsSync(pkgFile)) continue;
    workspaces++;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    const isExample = group === 'examples';
    const allowed = ALLOWED[pkg.name];
    if (!isExample && !allowed) {
      problems.push(
        `${pkg.name}: not in the layering table of scripts/check-layering.mjs (add it, per CONTRIBUTING.md §1)`,
      );
      continue;
    }
    for (const part of ['src', 'test', 'bench']) {
      for (const file of files(join(base, dir, part))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(IMPORT)) {
          const target = m[1];
          if (target === pkg.name || isExample) continue;
          const ok = allowed.includes(target) || (part !== 'src' && TEST_EXTRA.includes(target));
          if (!ok) {
            const line = text.slice(0, m.index).split('\n').length;
            problems.push(`${relative(root, file)}:${line}: ${pkg.name} may not import ${target}`);
          }
        }
      }
    }
    // A published package must not depend on the private test infrastructure at run time.
    if (!pkg.private) {
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        for (const dep of Object.keys(pkg[field] ?? {})) {
          if (dep.startsWith('@tenantry/') && !allowed.includes(dep)) {
            problems.push(`${relative(root, pkgFile)}: ${field} names ${dep}, which ${pkg.name} may not use`);
          }
        }
      }
    }
  }
}

if (problems.length > 0) {
  console.error(
    `layering: ${problems.length} import(s) break CONTRIBUTING.md §1:\n  ${problems.join('\n  ')}`,
  );
  process.exit(1);
}
console.log(`layering: ${workspaces} workspace packages, every import allowed`);
