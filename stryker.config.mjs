// Mutation testing of the files that own invariants (issue 12): `npm run mutate` (scripts/mutate.mjs
// runs StrykerJS 10 on a Node 22 binary from tools/node22, leaving the machine's Node alone).
// Surviving mutants that cannot change behaviour are listed, each with its reason, in
// docs/mutation-equivalents.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'stryker.vitest.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'packages/audit/src/chain.ts',
    'packages/audit/src/verify.ts',
    'packages/crypto-fields/src/format.ts',
    'packages/crypto-fields/src/aead.ts',
    'packages/sequencer/src/period.ts',
    'packages/sequencer/src/format.ts',
    'packages/sequencer/src/series.ts',
    'packages/tenancy-core/src/kernel/context.ts',
    'packages/tenancy-core/src/kernel/tenant-resolution.ts', // formerly tenant-guard.ts
    'packages/tenancy-core/src/kernel/rls/tenant-table-sql.ts',
  ],
  coverageAnalysis: 'perTest',
  // Workspace packages resolve through node_modules symlinks to the real sources, so a sandbox copy
  // would test unmutated code: mutate in place (Stryker restores the files when it ends).
  inPlace: true,
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 1),
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  timeoutMS: 20_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
