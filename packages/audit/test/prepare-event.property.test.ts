// prepareEvent has two ways to build an event: one walk that masks and writes canonical JSON at once
// (a masker made by createMasker), and mask-then-canonicalJson (a masker the host wrote). They must
// store the same bytes and refuse the same events, for any values and masking rules: proven here against each
// other, and the text against core's canonicalJson of the body.
import { canonicalJson, isTenantryError } from '@tenantry/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AuditEventInputSchema,
  AuditLimitsSchema,
  type Masker,
  SENSITIVE_FIELDS,
  createMasker,
  markSensitive,
  prepareEvent,
} from '../src/index.js';

const objectOf = (entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> => {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
};
class Account {
  constructor(
    readonly login: string,
    readonly pin: string,
  ) {}
}
markSensitive(Account, 'pin');

const key = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'a',
    'b',
    'token',
    'Token',
    'password',
    'isAdmin',
    'x',
    'é',
    '\u{1F600}',
    '10',
    '2',
  ),
  fc.string({ maxLength: 4 }),
);
const leaf = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(new Date(0)),
  fc.constant(new Account('ann', '1234')),
  // Rarely, values that are refused: errors must match too.
  fc.constantFrom(undefined, Number.NaN, 'nul\u0000', '\ud800', new Map(), 1n),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: leaf, weight: 6 },
    { arbitrary: fc.array(tie('value'), { maxLength: 3 }), weight: 2 },
    { arbitrary: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(objectOf), weight: 2 },
    {
      arbitrary: fc
        .array(fc.tuple(key, tie('value')), { maxLength: 3 })
        .map((e) => Object.assign(objectOf(e), { [SENSITIVE_FIELDS]: ['a', 'b'] })),
      weight: 1,
    },
  ),
}));
const record = fc.array(fc.tuple(key, value), { maxLength: 5 }).map(objectOf);
const paths = fc.subarray(['token', '*.token', 'a.b', '**.x', 'b.*', 'isadmin', '__proto__', 'é', '*.*.a']);

const event = fc.record(
  {
    tenantId: fc.constantFrom('acme', null),
    actor: fc.record(
      { id: fc.constantFrom('u1', 'token'), displayName: fc.constantFrom('Ann', undefined) },
      { requiredKeys: ['id'] },
    ),
    impersonator: fc.record({ id: fc.constant('support-1') }),
    action: fc.constantFrom('http.post', 'a.b'),
    targets: fc.array(
      fc.record({ type: fc.constantFrom('route', 'token'), id: fc.string({ minLength: 1, maxLength: 5 }) }),
      {
        maxLength: 2,
      },
    ),
    outcome: fc.constantFrom('success', 'failure', 'denied'),
    occurredAt: fc.integer({ min: 0, max: 2 ** 42 }),
    request: fc.record(
      { ip: fc.constantFrom('127.0.0.1', undefined), requestId: fc.constantFrom('r1', undefined) },
      { requiredKeys: [] },
    ),
    changes: fc.record({ before: record, after: record }, { requiredKeys: [] }),
    metadata: record,
  },
  { requiredKeys: ['tenantId', 'actor', 'action', 'outcome'] },
);

type Outcome = { text: string; body: unknown } | { error: string };
const outcomeOf = (fn: () => { text: string; body: unknown }): Outcome => {
  try {
    return fn();
  } catch (e) {
    return { error: isTenantryError(e) ? `${e.code}: ${e.message}` : `untyped: ${String(e)}` };
  }
};

describe('prepareEvent: one walk = mask, then canonical JSON', () => {
  it('stores the same text and body, and refuses the same events, for any event and masking rules', () => {
    fc.assert(
      fc.property(
        event,
        paths,
        fc.integer({ min: 64, max: 400 }),
        fc.integer({ min: 1, max: 6 }),
        (e, maskPaths, maxBytes, maxDepth) => {
          const input = { ...AuditEventInputSchema.parse(e), tenantId: e.tenantId };
          const limits = AuditLimitsSchema.parse({ maxMetadataBytes: maxBytes, maxChangesBytes: maxBytes });
          const made = createMasker({ paths: maskPaths, maxDepth });
          const own: Masker = { mask: (v) => made.mask(v) };
          const deps = { id: '0190a6f0-0000-7000-8000-000000000000', now: 1_700_000_000_000, limits };
          const one = outcomeOf(() => prepareEvent(input, { ...deps, masker: made }));
          const two = outcomeOf(() => prepareEvent(input, { ...deps, masker: own }));
          // Both refuse, or both store the same bytes. When a value breaks two rules, the walks may
          // report different ones first (the one walk visits keys in canonical order).
          if ('error' in one || 'error' in two) {
            expect('error' in one && 'error' in two).toBe(true);
            for (const o of [one, two] as Array<{ error: string }>) {
              expect(o.error).toMatch(/^(AUDIT_VALUE_UNSUPPORTED|AUDIT_EVENT_TOO_LARGE): /);
            }
          } else expect(one).toEqual(two);
          if ('text' in one) {
            expect(one.text).toBe(canonicalJson(one.body));
            expect(JSON.parse(one.text)).toEqual(one.body);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('a masked value is absent from the text, wherever it sits', () => {
    const masker = createMasker({ paths: ['token', 'card.number'] });
    const limits = AuditLimitsSchema.parse({});
    const p = prepareEvent(
      {
        ...AuditEventInputSchema.parse({
          actor: { id: 'u1' },
          action: 'x.y',
          outcome: 'success',
          metadata: {
            token: 'SECRET-1',
            card: { number: 'SECRET-2' },
            account: new Account('ann', 'SECRET-3'),
          },
          changes: { before: { token: 'SECRET-4' }, after: { nested: [{ token: 'SECRET-5' }] } },
        }),
        tenantId: 'acme',
      },
      { id: 'e1', now: 1, masker, limits },
    );
    expect(p.text).not.toMatch(/SECRET/);
    expect(p.text).toContain('"account":{"login":"ann","pin":"[REDACTED]"}');
  });

  it('keeps every key as own data even when Object.prototype has a setter or a read-only property for it', () => {
    const masker = createMasker({ paths: [] });
    // A setter that swallows every assignment, as a tampered prototype might carry.
    Object.defineProperty(Object.prototype, 'trap', { set() {}, configurable: true });
    Object.defineProperty(Object.prototype, 'frozen', { value: 'x', writable: false, configurable: true });
    try {
      const value = JSON.parse('{"trap":1,"frozen":2,"__proto__":{"a":3}}') as Record<string, unknown>;
      for (const out of [masker.mask(value), JSON.parse(JSON.stringify(masker.mask(value)))]) {
        expect(Object.getOwnPropertyDescriptor(out, 'trap')).toMatchObject({ value: 1, enumerable: true });
        expect(Object.getOwnPropertyDescriptor(out, 'frozen')).toMatchObject({ value: 2, enumerable: true });
      }
      const p = prepareEvent(
        {
          ...AuditEventInputSchema.parse({
            actor: { id: 'u1' },
            action: 'x.y',
            outcome: 'success',
            metadata: value,
          }),
          tenantId: 'acme',
        },
        { id: 'e1', now: 1, masker, limits: AuditLimitsSchema.parse({}) },
      );
      expect(p.text).toContain('"metadata":{"__proto__":{"a":3},"frozen":2,"trap":1}');
      expect(Object.keys(p.body.metadata as object).sort()).toEqual(['__proto__', 'frozen', 'trap']);
    } finally {
      delete (Object.prototype as Record<string, unknown>).trap;
      delete (Object.prototype as Record<string, unknown>).frozen;
    }
  });
});
