import { isTenantryError } from '../kernel/errors.js';

/**
 * For conformance suites: how a promise settles, as a string to compare — `'resolved'`, the
 * `TenantryError` code it rejected with, or `'untyped: …'` for any other rejection (a backend that
 * throws untyped errors fails the suite's expectations visibly).
 * @example expect(await settledCode(store.advance(key, 1, 0))).toBe('SEQUENCER_FENCED');
 */
export async function settledCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (e) {
    return isTenantryError(e) ? e.code : `untyped: ${String(e)}`;
  }
}
