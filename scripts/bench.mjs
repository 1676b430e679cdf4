#!/usr/bin/env node
// Runs every package's benchmark scripts (packages/*/bench/*.ts) one after another, so they never
// compete for the machine. `npm run bench -- --json` ends with one JSON array of every row;
// `npm run bench -- sequencer` runs only packages whose folder name contains "sequencer".
// The scripts run on the packages' built `dist` (what users install; `npm run build` first): tsx only
// transpiles the bench scripts themselves. Through tsx the sources would carry a helper call for
// every closure created (esbuild's keepNames), a cost no user pays.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const tsx = pathToFileURL(require.resolve('tsx/esm')).href;
const args = process.argv.slice(2);
const json = args.includes('--json');
const filters = args.filter((a) => !a.startsWith('--'));
const rows = [];
let failed = false;

const unbuilt = readdirSync('packages')
  .filter((pkg) => existsSync(join('packages', pkg, 'tsup.config.ts')))
  .filter((pkg) => !existsSync(join('packages', pkg, 'dist')));
if (unbuilt.length > 0) {
  console.error(
    `the benches run the built packages; build first (npm run build): no dist in ${unbuilt.join(', ')}`,
  );
  process.exit(1);
}

for (const pkg of readdirSync('packages').sort()) {
  if (filters.length && !filters.some((f) => pkg.includes(f))) continue;
  const dir = join('packages', pkg, 'bench');
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    const script = join(dir, file);
    console.log(`\n=== ${script}`);
    const res = spawnSync(process.execPath, ['--import', tsx, script, ...(json ? ['--json'] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const out = res.stdout ?? '';
    const lines = out.trimEnd().split('\n');
    if (json) {
      const last = lines.pop() ?? '[]';
      try {
        rows.push(...JSON.parse(last));
      } catch {
        lines.push(last);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    if (res.status !== 0) {
      console.error(`bench ${script} failed with ${res.status ?? res.signal}`);
      failed = true;
    }
  }
}
if (json) console.log(JSON.stringify(rows));
process.exit(failed ? 1 : 0);
