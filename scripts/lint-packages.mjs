#!/usr/bin/env node
// publint and are-the-types-wrong on every built, publishable package.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

let failed = false;
for (const dir of readdirSync('packages').sort()) {
  const pkgPath = join('packages', dir, 'package.json');
  if (!existsSync(pkgPath)) continue;
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  if (pkg.private) continue;
  if (!existsSync(join('packages', dir, 'dist'))) {
    console.error(`${pkg.name}: no dist/ — run npm run build first`);
    failed = true;
    continue;
  }
  for (const [cmd, args] of [
    ['publint', ['--strict']],
    ['attw', ['--pack', '.', '--format', 'table-flipped']],
  ]) {
    console.log(`\n--- ${pkg.name}: ${cmd}`);
    const res = spawnSync('npx', ['--no-install', cmd, ...args], {
      cwd: join('packages', dir),
      stdio: 'inherit',
      // attw packs the package: the dist was just built (checked above), so no prepack build again.
      env: { ...process.env, npm_config_ignore_scripts: 'true' },
    });
    if (res.status !== 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);
