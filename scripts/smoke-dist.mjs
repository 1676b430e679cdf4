#!/usr/bin/env node
// Loads every export of every built, publishable package from dist/, under both ESM (import) and
// CJS (require), without the source condition, as a user's app would.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

let failed = false;
for (const dir of readdirSync('packages').sort()) {
  const root = resolve('packages', dir);
  const pkgPath = join(root, 'package.json');
  if (!existsSync(pkgPath)) continue;
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  if (pkg.private || !pkg.exports) continue;
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target !== 'object' || subpath.endsWith('.json')) continue;
    const esm = join(root, target.import.default);
    const cjs = join(root, target.require.default);
    try {
      const a = await import(pathToFileURL(esm).href);
      const b = createRequire(pkgPath)(cjs);
      const names = Object.keys(a).sort().join(',');
      if (names !== Object.keys(b).sort().join(',') || names.length === 0) {
        throw new Error(`ESM and CJS exports differ or are empty: ${names}`);
      }
      console.log(`ok ${pkg.name}${subpath.slice(1)} (${Object.keys(a).length} exports, ESM + CJS)`);
    } catch (error) {
      failed = true;
      console.error(`FAIL ${pkg.name}${subpath.slice(1)}: ${error.message}`);
    }
  }
}
process.exit(failed ? 1 : 0);
