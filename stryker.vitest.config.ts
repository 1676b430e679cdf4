import base from './vitest.config.js';

// The unit tests that exercise the ten files `npm run mutate` mutates (stryker.config.mjs): fast and
// backend-free, so that each mutant runs in well under a second. (Spread, not mergeConfig: that would
// concatenate the include lists.)
export default {
  ...base,
  test: {
    ...base.test,
    include: [
      'packages/audit/test/chain.test.ts',
      'packages/audit/test/verify.property.test.ts',
      'packages/audit/test/verify.test.ts',
      'packages/audit/test/audit-log.test.ts',
      'packages/audit/test/sink.stdout.test.ts',
      'packages/crypto-fields/test/format.test.ts',
      'packages/crypto-fields/test/format-strictness.test.ts',
      'packages/crypto-fields/test/aead.test.ts',
      'packages/crypto-fields/test/field-crypto.test.ts',
      'packages/crypto-fields/test/context-unicode.test.ts',
      'packages/sequencer/test/period.test.ts',
      'packages/sequencer/test/format.test.ts',
      'packages/sequencer/test/series.test.ts',
      'packages/sequencer/test/locked-sequencer.test.ts',
      'packages/tenancy-core/test/context.test.ts',
      'packages/tenancy-core/test/context.property.test.ts',
      'packages/tenancy-core/test/job-context.test.ts',
      'packages/tenancy-core/test/tenant-resolution.test.ts',
      'packages/tenancy-core/test/tenant-table-sql.test.ts',
    ],
    reporters: ['default'],
  },
};
