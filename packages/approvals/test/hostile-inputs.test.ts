// Hostile inputs to the public functions and classes (DESIGN §4, CONTRIBUTING §5): every call returns or
// fails with a Tenantry error that carries a code; never a TypeError, a hang or a crash.
import { MemoryAuditPort, isTenantryError } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { ApprovalError, createApprovalEngine, isExpired, matchPolicy, viewOf } from '../src/index.js';
import { MemoryApprovalStore } from '../src/memory.js';
import { MongoApprovalStore, ensureApprovalsIndexes } from '../src/mongo.js';
import { PostgresApprovalStore } from '../src/postgres.js';

const deep = (n: number): unknown => {
  let o: unknown = {};
  for (let i = 0; i < n; i++) o = { a: o };
  return o;
};
const HOSTILE: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['NaN', Number.NaN],
  ['-1', -1],
  ['bigint', 10n],
  ['symbol', Symbol('s')],
  ['function', () => 'x'],
  ['empty string', ''],
  ['10 MB string', 'x'.repeat(10 * 1024 * 1024)],
  ['NUL', 'a\u0000b'],
  ['lone surrogate', 'a\ud800b'],
  ['__proto__ key', JSON.parse('{"__proto__":{"isAdmin":true}}')],
  ['10,000-deep object', deep(10_000)],
  ['invalid date', new Date(Number.NaN)],
  ['array', [1, 'a', null]],
  ['empty object', {}],
];

async function outcome(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return isTenantryError(e)
      ? 'typed'
      : `RAW ${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 80)}`;
  }
}

async function expectTyped(name: string, call: (h: unknown) => unknown): Promise<void> {
  for (const [label, h] of HOSTILE) {
    const o = await outcome(() => call(h));
    expect(`${name} <- ${label}: ${o.startsWith('RAW') ? o : 'typed'}`).toBe(`${name} <- ${label}: typed`);
  }
}

describe('hostile inputs to the public functions and classes', () => {
  it('matchPolicy, isExpired and viewOf check their arguments before reading them', async () => {
    await expectTyped('matchPolicy(h, h)', (h) => matchPolicy(h as never, h as never));
    await expectTyped('matchPolicy([h], a)', (h) => matchPolicy([h] as never, 'asset.delete'));
    await expectTyped('isExpired(h, h)', (h) => isExpired(h as never, h as never));
    await expectTyped('viewOf(h, h)', (h) => viewOf(h as never, h as never));
    await expectTyped('isExpired(request, h)', (h) =>
      isExpired({ approvalState: 'PENDING', expiresAt: '2026-01-01T00:00:00Z' } as never, h as never),
    );
  });

  it('an invalid `now` is a VALIDATION_FAILED, never "not expired"', () => {
    const request = { approvalState: 'PENDING', expiresAt: '2026-01-01T00:00:00Z' } as never;
    expect(() => isExpired(request, new Date(Number.NaN))).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(isExpired(request, new Date('2027-01-01T00:00:00Z'))).toBe(true);
  });

  it('createApprovalEngine and the stores validate their options by shape', async () => {
    await expectTyped('createApprovalEngine(h)', (h) => createApprovalEngine(h as never));
    const audit = new MemoryAuditPort();
    const store = new MemoryApprovalStore();
    await expectTyped('createApprovalEngine({ store: h, audit })', (h) =>
      createApprovalEngine({ store: h as never, audit }),
    );
    await expectTyped('createApprovalEngine({ store, audit, leaseMs: h })', (h) => {
      createApprovalEngine({ store, audit, leaseMs: h as never });
      if (h !== undefined) throw new Error('accepted');
    });
    await expectTyped('new PostgresApprovalStore(h)', (h) => new PostgresApprovalStore(h as never));
    await expectTyped('new MongoApprovalStore(h)', (h) => new MongoApprovalStore(h as never));
    await expectTyped('ensureApprovalsIndexes(h)', (h) => ensureApprovalsIndexes(h as never));
  });

  it('ApprovalError never throws on odd arguments, and keeps a string code', () => {
    const e = new ApprovalError(Symbol('c') as never, Symbol('m') as never, null as never);
    expect(isTenantryError(e)).toBe(true);
    expect(typeof e.code).toBe('string');
    expect(new ApprovalError('APPROVAL_NOT_FOUND', 'x').code).toBe('APPROVAL_NOT_FOUND');
  });
});
