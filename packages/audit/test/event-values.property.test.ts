// Issue 11 item 14: a value is stored exactly or refused (AUDIT_VALUE_UNSUPPORTED), wherever an
// event is built: schema parsing, masking, diffing. Never dropped or changed silently.
import { canonicalJson, isTenantryError } from '@tenantry/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAuditLog, createMasker, diffChanges } from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';
import { asTenant } from './helpers.js';

/** An object with exactly these own keys, `__proto__` included (assignment would set the prototype). */
const objectOf = (entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> => {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
};

const UNSUPPORTED = Symbol('unsupported');
/** Reference canonical form (RFC 8785 for the values we allow), or UNSUPPORTED. Independent of the code under test. */
function reference(v: unknown): string | typeof UNSUPPORTED {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : UNSUPPORTED;
  if (Array.isArray(v)) {
    const parts = v.map(reference);
    return parts.includes(UNSUPPORTED) ? UNSUPPORTED : `[${parts.join(',')}]`;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const keys = Object.keys(v as object).sort();
    const parts: string[] = [];
    for (const k of keys) {
      const r = reference((v as Record<string, unknown>)[k]);
      if (r === UNSUPPORTED) return UNSUPPORTED;
      parts.push(`${JSON.stringify(k)}:${r}`);
    }
    return `{${parts.join(',')}}`;
  }
  return UNSUPPORTED; // undefined, function, symbol, bigint
}

const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'isAdmin', 'a'),
  fc.string({ maxLength: 6 }),
);
const good = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x)),
  fc.boolean(),
  fc.constant(null),
);
const bad = fc.oneof(
  fc.constant(undefined),
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
  fc.bigInt(),
  fc.constant(Number.NaN),
  fc.constant(new Map([[1, 2]])),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: good, weight: 6 },
    { arbitrary: bad, weight: 1 },
    { arbitrary: fc.array(tie('value'), { maxLength: 3 }), weight: 2 },
    { arbitrary: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(objectOf), weight: 2 },
  ),
}));
const record = fc.array(fc.tuple(key, value), { maxLength: 5 }).map(objectOf);

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isTenantryError(e) ? e.code : `untyped: ${String(e)}`;
  }
};

describe('event values: stored exactly or refused', () => {
  const masker = createMasker({ paths: [], maxDepth: 64 });

  it('masking keeps every supported value exactly (own __proto__ keys included) and refuses the rest', () => {
    fc.assert(
      fc.property(record, (r) => {
        const expected = reference(r);
        if (expected === UNSUPPORTED) expect(codeOf(() => masker.mask(r))).toBe('AUDIT_VALUE_UNSUPPORTED');
        else expect(canonicalJson(masker.mask(r))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('diffChanges reports a key exactly when its stored form differs, and refuses unsupported values', () => {
    fc.assert(
      fc.property(record, record, (b, a) => {
        const refB = reference(b);
        const refA = reference(a);
        if (refB === UNSUPPORTED || refA === UNSUPPORTED) {
          // A diff may skip an unsupported value only where both sides are identical; otherwise it refuses.
          const code = codeOf(() => diffChanges(b, a));
          if (code !== 'ok') expect(code).toBe('AUDIT_VALUE_UNSUPPORTED');
          return;
        }
        const d = diffChanges(b, a);
        for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
          const inB = Object.hasOwn(b, k);
          const inA = Object.hasOwn(a, k);
          const changed = inB !== inA || reference(b[k]) !== reference(a[k]);
          expect(`${k}: ${Object.hasOwn(d.before, k) || Object.hasOwn(d.after, k)}`).toBe(`${k}: ${changed}`);
          if (changed && inA) expect(reference(d.after[k])).toBe(reference(a[k]));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a change that only flips __proto__.isAdmin is recorded as that change (regression)', async () => {
    const before = JSON.parse('{"name":"ann","__proto__":{"isAdmin":false}}') as Record<string, unknown>;
    const after = JSON.parse('{"name":"ann","__proto__":{"isAdmin":true}}') as Record<string, unknown>;
    const changes = diffChanges(before, after);
    expect(Object.keys(changes.after)).toEqual(['__proto__']);
    const sink = new MemoryAuditSink();
    const log = createAuditLog({ sink, delivery: { mode: 'direct' } });
    await asTenant('acme', () =>
      log.record({
        actor: { id: 'u' },
        action: 'user.updated',
        outcome: 'success',
        changes,
        metadata: JSON.parse('{"__proto__":{"via":"metadata"}}') as Record<string, unknown>,
      }),
    );
    const [stored] = await sink.readChain('acme', 0, 1);
    expect(stored!.text).toContain(
      '"changes":{"after":{"__proto__":{"isAdmin":true}},"before":{"__proto__":{"isAdmin":false}}}',
    );
    expect(stored!.text).toContain('"metadata":{"__proto__":{"via":"metadata"}}');
  });

  it('record refuses undefined, functions, symbols, bigints and opaque built-ins in metadata and changes', async () => {
    const log = createAuditLog({ sink: new MemoryAuditSink(), delivery: { mode: 'direct' } });
    const base = { actor: { id: 'u' }, action: 'x.y', outcome: 'success' as const };
    for (const v of [
      undefined,
      () => 1,
      Symbol('s'),
      10n,
      new Map(),
      new Set([1]),
      /re/,
      new Error('x'),
      Buffer.from('ab'),
      new Array<number>(2),
    ]) {
      for (const event of [
        { ...base, metadata: { v } },
        { ...base, changes: { after: { v } } },
      ]) {
        const code = await asTenant('acme', () =>
          log.record(event).then(
            () => 'ok',
            (e: unknown) => (isTenantryError(e) ? e.code : String(e)),
          ),
        );
        expect(`${String(typeof v)}: ${code}`).toBe(`${String(typeof v)}: AUDIT_VALUE_UNSUPPORTED`);
      }
    }
    // Schema-shaped fields with an optional part left undefined are fine (the key is absent).
    const ok = await asTenant('acme', () =>
      log.record({ ...base, request: { ip: undefined, requestId: 'r1' } }),
    );
    expect(ok.id).toBeTruthy();
  });
});
