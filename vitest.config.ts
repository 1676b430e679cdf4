import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources: every package's exports map has a `@tenantry/source`
// condition pointing at `src/`, so no build is needed before testing.
const SOURCE_CONDITION = '@tenantry/source';

export default defineConfig({
  resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
  ssr: {
    resolve: {
      // Without `module`, as Vitest's own default: Vitest passes these to the test processes as Node
      // `--conditions`, and `module` makes Node load bundler-only builds (the AWS SDK's dist-es,
      // vitest-dev/vitest#7794).
      conditions: [SOURCE_CONDITION, ...defaultServerConditions.filter((c) => c !== 'module')],
      externalConditions: [SOURCE_CONDITION],
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'scripts/*.test.ts'],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
