// Mutation testing of the files that own invariants (issue 12): `npm run mutate` (scripts/mutate.mjs
// runs StrykerJS 10 on a Node 22 binary from tools/node22, leaving the machine's Node alone).
// Surviving mutants that cannot change behaviour are listed, each with its reason, in
// docs/mutation-equivalents.md.
import { MUTATION_GROUPS } from './scripts/mutation-groups.mjs';

const group = process.env.STRYKER_GROUP ?? 'core';
if (MUTATION_GROUPS[group] === undefined) throw new Error(`Unknown STRYKER_GROUP ${group}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // Worker threads start faster than forked processes (each mutant run starts one per test file).
  vitest: { configFile: 'stryker.vitest.config.ts', related: false, pool: 'threads' },
  plugins: ['@stryker-mutator/vitest-runner'],
  // One group at a time (scripts/mutate.mjs sets STRYKER_GROUP): its files, against its tests.
  mutate: [...MUTATION_GROUPS[group].mutate],
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants: patterns, tables, lengths) rerun every test of the group in
  // a fresh environment, 10-20 s each on the shared 2-core machine: left out of the score by default
  // (reported as "ignored"); `STRYKER_STATIC=1 npm run mutate` includes them.
  ignoreStatic: process.env.STRYKER_STATIC !== '1',
  // Only the mutated files need `// @ts-nocheck` (in place, the default would touch every source file,
  // and a broader glob would touch the other groups' files).
  disableTypeChecks: `{${MUTATION_GROUPS[group].mutate.join(',')}}`,
  // Workspace packages resolve through node_modules symlinks to the real sources, so a sandbox copy
  // would test unmutated code: mutate in place (Stryker restores the files when it ends).
  inPlace: true,
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 1),
  incremental: true,
  // `STRYKER_FORCE=1`: rerun every mutant, ignoring the incremental report.
  force: process.env.STRYKER_FORCE === '1',
  incrementalFile: `reports/stryker-incremental-${group}.json`,
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${group}.json` },
  htmlReporter: { fileName: `reports/mutation/${group}.html` },
  timeoutMS: 20_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
