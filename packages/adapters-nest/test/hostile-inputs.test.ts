import { isTenantryError } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { Audited, TenancyContextMiddleware, TenancyGuard } from '../src/index.js';

// DESIGN §4, CONTRIBUTING §5: hostile arguments get a typed error with a code, never a TypeError.
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!isTenantryError(e)) throw e;
    return e.code;
  }
}

type Ctor = new (...args: never[]) => unknown;
const construct =
  (C: Ctor, ...args: unknown[]) =>
  () =>
    new (C as new (...a: unknown[]) => unknown)(...args);

describe('hostile inputs to the Nest adapter', () => {
  it('@Audited() rejects options that are not an options object', () => {
    for (const bad of [
      null,
      1,
      'x',
      Symbol('s'),
      [1],
      { failClosed: 'yes' },
      { resource: 1 },
      { idParam: '' },
    ]) {
      expect(codeOf(() => Audited(bad as never))).toBe('VALIDATION_FAILED');
    }
    expect(typeof Audited()).toBe('function');
    expect(typeof Audited({ resource: 'item', failClosed: true })).toBe('function');
  });

  it('the guard and the middleware refuse missing providers with VALIDATION_FAILED', () => {
    for (const bad of [undefined, null, 1, 'x', Symbol('s'), 10n]) {
      expect(codeOf(construct(TenancyGuard, bad, {}, {}))).toBe('VALIDATION_FAILED');
      expect(codeOf(construct(TenancyGuard, { auditsRequests: true }, bad, {}))).toBe('VALIDATION_FAILED');
      expect(codeOf(construct(TenancyContextMiddleware, bad, {}))).toBe('VALIDATION_FAILED');
      expect(codeOf(construct(TenancyContextMiddleware, {}, bad))).toBe('VALIDATION_FAILED');
    }
    // An adapter host without an HTTP adapter (or with an odd one) is not Express: no TypeError.
    expect(codeOf(construct(TenancyContextMiddleware, {}, { httpAdapter: {} }))).toBeUndefined();
    expect(codeOf(construct(TenancyContextMiddleware, {}, {}))).toBeUndefined();
  });
});
