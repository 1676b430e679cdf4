import { isTenantryError } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { approvalRoutes } from '../src/approvals.js';
import { signInLockout } from '../src/index.js';

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

const HOSTILE: readonly unknown[] = [undefined, null, Number.NaN, -1, 10n, Symbol('s'), () => 1, '', [1], {}];

describe('hostile inputs to the Express adapter', () => {
  it('signInLockout() validates its options', () => {
    const account = () => undefined;
    for (const bad of HOSTILE) {
      expect(codeOf(() => signInLockout(bad as never))).toBe('VALIDATION_FAILED');
    }
    for (const over of [
      { account: 'email' },
      { redis: {} },
      { maxFailures: 0 },
      { windowMs: Number.NaN },
      { prefix: '' },
      { prefix: Symbol('p') },
    ]) {
      expect(codeOf(() => signInLockout({ account, ...over } as never))).toBe('VALIDATION_FAILED');
    }
    expect(typeof signInLockout({ account })).toBe('function');
  });

  it('approvalRoutes() validates its engine, base path and route specs', () => {
    const fn = async () => undefined;
    const engine = { inbox: fn, list: fn, get: fn, approve: fn, reject: fn, request: fn };
    for (const bad of HOSTILE) {
      expect(codeOf(() => approvalRoutes(bad as never))).toBe('VALIDATION_FAILED');
      expect(codeOf(() => approvalRoutes({ engine: bad } as never))).toBe('VALIDATION_FAILED');
    }
    expect(codeOf(() => approvalRoutes({ engine: { ...engine, get: 1 } } as never))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => approvalRoutes({ engine, basePath: 'ops' } as never))).toBe('VALIDATION_FAILED');
    const approvals = approvalRoutes({ engine } as never);
    for (const bad of [...HOSTILE, { action: 'a.b' }, { action: 'a.b', resource: () => ({}), payload: 1 }]) {
      expect(codeOf(() => approvals.require(bad as never))).toBe('VALIDATION_FAILED');
    }
    expect(typeof approvals.require({ action: 'a.b', resource: () => ({ type: 'x', id: '1' }) })).toBe(
      'function',
    );
  });
});
