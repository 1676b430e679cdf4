/**
 * The assertion a conformance suite makes on one value: the subset of the Jest/Vitest `expect` API that
 * Tenantry's suites use. Vitest's and Jest's `expect` both satisfy it; with `node:test`, pass the
 * standalone `expect` package (Jest's).
 */
export interface SuiteAssertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toStrictEqual(expected: unknown): void;
  toBeDefined(): void;
  toBeUndefined(): void;
  toBeNull(): void;
  toBeTruthy(): void;
  toBeFalsy(): void;
  toBeGreaterThan(expected: number): void;
  toBeGreaterThanOrEqual(expected: number): void;
  toBeLessThan(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  toContain(expected: unknown): void;
  toHaveLength(expected: number): void;
  toMatch(expected: RegExp | string): void;
  toMatchObject(expected: object): void;
  readonly not: SuiteAssertion;
}

/**
 * The test functions a conformance suite registers its cases with. They are passed in, not imported,
 * so `@tenantry/<pkg>/testing` depends on no test runner: with Vitest or Jest pass their own
 * (`{ describe, it, expect }`); with `node:test` pass `describe` and `it` from `node:test` and `expect`
 * from the `expect` package.
 *
 * Harness contract: a suite calls its harness once per test (`harness()` inside each `it`), and the
 * harness may return a fresh backend each time or a shared one: suites use unique ids per test and never
 * rely on state left by another test.
 * @example
 * import { describe, expect, it } from 'vitest';
 * tenantIsolationConformance(harness, { describe, it, expect });
 */
export interface SuiteApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void> | void, timeout?: number): void;
  expect(actual: unknown): SuiteAssertion;
}
