import base from './vitest.config.js';
import { MUTATION_GROUPS } from './scripts/mutation-groups.mjs';

// The unit tests of one group of `npm run mutate` (scripts/mutation-groups.mjs), chosen by the
// STRYKER_GROUP environment variable: a package's files are mutated against that package's fast,
// backend-free tests only, so a mutant of core's context (which every test runs through) does not rerun
// the other packages' suites. (Spread, not mergeConfig: that would concatenate the include lists.)
const group = process.env.STRYKER_GROUP ?? 'core';
const chosen = MUTATION_GROUPS[group];
if (chosen === undefined) throw new Error(`Unknown STRYKER_GROUP ${group}`);

export default {
  ...base,
  test: {
    ...base.test,
    include: [...chosen.tests],
    reporters: ['default'],
    // One worker kept across mutant runs: without static mutants (stryker.config.mjs) the instrumented
    // code reads the active mutant at run time, so modules need not be reloaded per run. Except where a
    // module keeps state a mutant changes (crypto-fields memoises hasNativeAesGcm()): a kept module
    // would hide such a mutant, so that group reloads.
    isolate: process.env.STRYKER_STATIC === '1' || group === 'crypto-fields',
  },
};
