import type { ExpectStatic, TestAPI } from 'vitest';

/**
 * The test functions a conformance suite registers its cases with: vitest's `it` and `expect`. They are
 * passed in rather than imported, so `@tenantry/sequencer/testing` loads under CommonJS and outside a
 * test run.
 * @example import { expect, it } from 'vitest'; counterStoreConformance(harness, { it, expect });
 */
export interface SuiteApi {
  it: TestAPI;
  expect: ExpectStatic;
}
