#!/usr/bin/env node
// Lists the test files that use PostgreSQL (directly, or through a helper module of their own folder),
// one per line: the files .ci/run runs a second time through PgBouncer (PG_VIA=pgbouncer).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const USES_PG =
  /useTestDatabase\(|(?:backendStatus|hasBackend|skipLabel)\(\s*'postgres'\s*\)|\bPG_URL\b|from '@tenantry\/[a-z-]+\/postgres'/;
const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const dirs = [];
for (const top of ['packages', 'examples']) {
  for (const d of readdirSync(join(root, top))) {
    const t = join(root, top, d, 'test');
    if (existsSync(t)) dirs.push(t);
  }
}
const cache = new Map();
function usesPg(file, testDir, seen = new Set()) {
  if (cache.has(file)) return cache.get(file);
  if (seen.has(file) || !existsSync(file)) return false;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  let yes = USES_PG.test(text);
  if (!yes) {
    for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), m[1].replace(/\.js$/, '.ts'));
      // only the test folder's own helpers: a package's sources name PG_URL in docs, not in use
      if (target.startsWith(`${testDir}/`) && usesPg(target, testDir, seen)) {
        yes = true;
        break;
      }
    }
  }
  cache.set(file, yes);
  return yes;
}
const out = [];
function walk(dir, testDir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, testDir);
    else if (e.name.endsWith('.test.ts') && usesPg(p, testDir)) out.push(p.slice(root.length + 1));
  }
}
for (const d of dirs) walk(d, d);
console.log(out.sort().join('\n'));
