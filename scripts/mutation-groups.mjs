// The files that own invariants (issue 12), mutated by `npm run mutate`, and the tests each group runs.
// Used by scripts/mutate.mjs, stryker.config.mjs and stryker.vitest.config.ts.
// The property tests (verify.property, context.property, field-crypto.property) are left out: each
// mutant they cover would rerun hundreds of generated cases (seconds per mutant on a shared 2-core
// machine); the example tests beside them pin each decision precisely, and the property tests still
// run in `npm test`.
/** @type {Record<string, { mutate: string[]; tests: string[] }>} */
export const MUTATION_GROUPS = {
  audit: {
    mutate: ['packages/audit/src/chain.ts', 'packages/audit/src/verify.ts'],
    tests: [
      'packages/audit/test/verify.test.ts',
      'packages/audit/test/audit-log.test.ts',
      'packages/audit/test/sink.stdout.test.ts',
    ],
  },
  sequencer: {
    mutate: [
      'packages/sequencer/src/period.ts',
      'packages/sequencer/src/format.ts',
      'packages/sequencer/src/series.ts',
    ],
    tests: [
      'packages/sequencer/test/period.test.ts',
      'packages/sequencer/test/format.test.ts',
      'packages/sequencer/test/series.test.ts',
      'packages/sequencer/test/series-inputs.test.ts',
    ],
  },
  core: {
    mutate: [
      'packages/tenancy-core/src/kernel/context.ts',
      'packages/tenancy-core/src/kernel/tenant-resolution.ts', // formerly tenant-guard.ts
      'packages/tenancy-core/src/kernel/rls/tenant-table-sql.ts',
    ],
    tests: [
      'packages/tenancy-core/test/context.test.ts',
      'packages/tenancy-core/test/context-scope.test.ts',
      'packages/tenancy-core/test/job-context.test.ts',
      'packages/tenancy-core/test/tenant-resolution.test.ts',
      'packages/tenancy-core/test/tenant-table-sql.test.ts',
      'packages/tenancy-core/test/tenant-table-sql-keys.test.ts',
    ],
  },
  'crypto-fields': {
    mutate: ['packages/crypto-fields/src/format.ts', 'packages/crypto-fields/src/aead.ts'],
    tests: [
      'packages/crypto-fields/test/format.test.ts',
      'packages/crypto-fields/test/format-strictness.test.ts',
      'packages/crypto-fields/test/format-parsing.test.ts',
      'packages/crypto-fields/test/aead.test.ts',
      'packages/crypto-fields/test/field-crypto.test.ts',
      'packages/crypto-fields/test/context-unicode.test.ts',
    ],
  },
};
