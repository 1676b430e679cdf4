import { describe, expect, it } from 'vitest';
import { isTenantryError, parseInput, runAsTenant } from '../src/index.js';
import { z } from 'zod';

// zod reads an input's properties; a getter or a Proxy trap that throws must come out as the
// library's VALIDATION_FAILED, never as the raw TypeError/Error of the caller's object.
const hostile = {
  'a getter that throws': Object.defineProperty({}, 'tenantId', {
    enumerable: true,
    get() {
      throw new TypeError('boom');
    },
  }),
  'a Proxy whose get trap throws': new Proxy(
    {},
    {
      get() {
        throw new Error('trap');
      },
      has() {
        return true;
      },
      ownKeys() {
        return ['tenantId'];
      },
      getOwnPropertyDescriptor() {
        return { enumerable: true, configurable: true };
      },
    },
  ),
};

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'returned';
  } catch (e) {
    return isTenantryError(e) ? e.code : `untyped ${String(e)}`;
  }
};

describe('inputs that throw while being read', () => {
  it.each(Object.entries(hostile))('runAsTenant with %s: VALIDATION_FAILED', (_name, ctx) => {
    expect(codeOf(() => runAsTenant(ctx as never, () => 1))).toBe('VALIDATION_FAILED');
  });

  it.each(Object.entries(hostile))(
    'parseInput with %s: VALIDATION_FAILED naming the input',
    (_name, input) => {
      let caught: unknown;
      try {
        parseInput(z.object({ tenantId: z.string() }), input, 'tenant context');
      } catch (e) {
        caught = e;
      }
      expect(isTenantryError(caught) && caught.code).toBe('VALIDATION_FAILED');
      expect(String((caught as Error).message)).toContain('tenant context');
    },
  );
});
