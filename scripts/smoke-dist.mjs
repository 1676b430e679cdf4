#!/usr/bin/env node
// Loads every export of every built, publishable package from dist/, under both ESM (import) and
// CJS (require), without the source condition, as a user's app would.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

let failed = false;
const firstSeen = new Map();
for (const dir of readdirSync('packages').sort()) {
  const root = resolve('packages', dir);
  const pkgPath = join(root, 'package.json');
  if (!existsSync(pkgPath)) continue;
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  if (pkg.private || !pkg.exports) continue;
  // Each class must be defined once per format: a class bundled into two subpaths is two classes,
  // and `instanceof SomeError` then fails for an error thrown by the other subpath.
  for (const ext of ['.js', '.cjs']) {
    const defined = new Map();
    for (const file of readdirSync(join(root, 'dist')).filter((f) => f.endsWith(ext))) {
      const code = readFileSync(join(root, 'dist', file), 'utf8');
      for (const m of code.matchAll(/\bclass (?!extends\b)(\w+)|\b(?:var|let|const) (\w+) = class\b/g)) {
        const name = m[1] ?? m[2];
        defined.set(name, [...(defined.get(name) ?? []), file]);
      }
    }
    for (const [name, files] of defined) {
      if (files.length > 1) {
        failed = true;
        console.error(
          `FAIL ${pkg.name}: class ${name} is bundled ${files.length} times (${files.join(', ')})`,
        );
      }
    }
  }
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
      // A value exported by two subpaths must be one value (one class), in each format: otherwise
      // `instanceof` breaks for users who import an error class from the root and catch it from a backend.
      for (const [format, mod] of [
        ['esm', a],
        ['cjs', b],
      ]) {
        for (const [name, value] of Object.entries(mod)) {
          const seen = firstSeen.get(`${pkg.name}:${format}:${name}`);
          if (seen !== undefined && seen !== value)
            throw new Error(`${name} is a different value in ${format} subpaths`);
          firstSeen.set(`${pkg.name}:${format}:${name}`, value);
        }
      }
      console.log(`ok ${pkg.name}${subpath.slice(1)} (${Object.keys(a).length} exports, ESM + CJS)`);
    } catch (error) {
      failed = true;
      console.error(`FAIL ${pkg.name}${subpath.slice(1)}: ${error.message}`);
    }
  }
}
process.exit(failed ? 1 : 0);
