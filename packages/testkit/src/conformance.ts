import { afterAll, beforeAll, describe } from 'vitest';
import type { BackendKind } from './backends.js';
import { hasBackend, skipLabel } from './isolation.js';

/** One backend to run a conformance suite against. */
export interface BackendCase<H> {
  /** Shown in the suite title, e.g. `postgres`, `redis cluster`. */
  name: string;
  /** The external service the case needs; without it the case is skipped with a visible reason. */
  needs?: BackendKind;
  /** Extra condition: return a reason string to skip (e.g. a cluster that could not start). */
  skipUnless?: () => string | undefined;
  /** Builds the harness once for the case, in `beforeAll`. */
  setup: () => Promise<H> | H;
  /** Releases what `setup` built, in `afterAll`. */
  teardown?: (harness: H) => Promise<void> | void;
}

/** A conformance suite: declares tests that use the harness through the getter (valid inside tests). */
export type ConformanceSuite<H> = (harness: () => H) => void;

/**
 * Run one conformance suite against every backend case, each in its own `describe` block titled
 * `<suite> [<backend>]`. A case whose backend is unavailable is skipped with the reason in its title;
 * `REQUIRE_BACKENDS` makes the run fail earlier, in the global setup.
 * @example runConformance('CounterStore', [memoryCase, postgresCase], counterStoreSuite);
 */
export function runConformance<H>(
  suiteName: string,
  cases: ReadonlyArray<BackendCase<H>>,
  suite: ConformanceSuite<H>,
): void {
  for (const c of cases) {
    const extra = c.skipUnless?.();
    const missing = c.needs !== undefined && !hasBackend(c.needs);
    const title = `${suiteName} [${c.name}]${c.needs ? skipLabel(c.needs) : ''}${extra ? ` [SKIPPED: ${extra}]` : ''}`;
    describe.skipIf(missing || extra !== undefined)(title, () => {
      let harness: H | undefined;
      beforeAll(async () => {
        harness = await c.setup();
      }, 60_000);
      afterAll(async () => {
        if (harness !== undefined) await c.teardown?.(harness);
      }, 60_000);
      suite(() => {
        if (harness === undefined) throw new Error(`${c.name} harness is not set up`);
        return harness;
      });
    });
  }
}
