// record() parses events without zod for the usual shapes (it runs once per event). That path must
// accept only what AuditEventInputSchema accepts and return exactly what zod returns; anything else
// goes to zod. Proven here on inputs built around every rule's edges, against the installed zod.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditEventInputSchema } from '../src/index.js';
import { fastParseForTest, parseEventInput } from '../src/event-input.js';

class NotPlain {
  id = 'u1';
}
class LaterDate extends Date {}
const long = (n: number) => 'x'.repeat(n);
// Mostly usual values, sometimes one at or past a rule's edge: so whole events are often valid.
const mostly = (usual: readonly unknown[], edges: readonly unknown[]) =>
  fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(...usual) },
    { weight: 1, arbitrary: fc.constantFrom(...edges) },
  );

const actorRecord = fc.record(
  {
    id: mostly(['u1', 'support-7'], ['', long(256), long(257), 5]),
    roles: mostly(
      [undefined, [], ['USER'], ['USER', 'TENANT_ADMIN']],
      ['USER', ['bad'], [1], Array(64).fill('A'), Array(65).fill('A')],
    ),
    kind: mostly([undefined, 'user', 'service', 'system'], ['robot', 1]),
    partnerId: mostly([undefined, 'p1'], ['', long(128), long(129)]),
    displayName: mostly([undefined, '', 'Ann'], [long(256), long(257), 2]),
    extra: fc.constant(1),
  },
  { requiredKeys: ['id'] },
);
const actor = fc.oneof(
  { weight: 8, arbitrary: actorRecord },
  { weight: 1, arbitrary: fc.constantFrom(null, 'u1', [{ id: 'u1' }], new NotPlain()) },
);
const target = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        type: mostly(['route', 'invoice'], ['bad type', '', long(64), long(65), 3]),
        id: mostly([undefined, 'x'], ['', long(256), long(257)]),
      },
      { requiredKeys: ['type'] },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, 'route') },
);
const request = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        ip: mostly(
          [undefined, '127.0.0.1', '203.0.113.7', '::1', '::ffff:127.0.0.1'],
          ['999.1.1.1', '::1\n', '::@1\\', '1.2.3', '', 7],
        ),
        userAgent: mostly([undefined, '', 'autocannon', long(600)], [long(4096), long(4097), 1]),
        requestId: mostly([undefined, 'r1'], ['', long(256), long(257)]),
        other: fc.constant('dropped'),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, 'r1', [], new NotPlain()) },
);
const freeValue = mostly(
  [undefined, { a: 1 }, JSON.parse('{"__proto__":{"x":1}}')],
  [null, [], 'x', new Map(), new NotPlain()],
);
const event = fc.record(
  {
    tenantId: mostly([undefined, null, 'acme', 'a.b-c_1'], ['../x', '', long(128), long(129), 5]),
    actor,
    impersonator: fc.oneof(fc.constant(undefined), actor),
    action: mostly(['http.post', 'invoice.voided'], ['Bad', 'a..b', long(128), long(129), 5]),
    targets: fc.oneof(
      { weight: 6, arbitrary: fc.array(target, { maxLength: 3 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          undefined,
          'x',
          Array(32).fill({ type: 't' }),
          Array(33).fill({ type: 't' }),
        ),
      },
    ),
    outcome: mostly(['success', 'failure', 'denied'], ['maybe']),
    occurredAt: mostly(
      [undefined, new Date(0), new Date(1_700_000_000_000), 0, 1_700_000_000_000],
      [
        new Date(Number.NaN),
        new LaterDate(5),
        -0,
        -1,
        1.5,
        8.64e15,
        8.64e15 + 1,
        2 ** 53,
        Number.POSITIVE_INFINITY,
        '2026-01-01T00:00:00Z',
        'yesterday',
      ],
    ),
    request,
    changes: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record(
          { before: freeValue, after: freeValue, x: fc.constant(1) },
          { requiredKeys: [] },
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom(null, 'x', []) },
    ),
    metadata: freeValue,
    unknown: fc.constant('dropped'),
  },
  { requiredKeys: ['actor', 'action', 'outcome'] },
);
const input = fc.oneof(
  { weight: 12, arbitrary: event },
  { weight: 1, arbitrary: fc.constantFrom(null, 'event', [], new NotPlain()) },
);

describe('event input: the fast path returns what zod returns, or leaves the input to zod', () => {
  it('never accepts what zod refuses, and returns exactly zod output for what it accepts', () => {
    let fast = 0;
    fc.assert(
      fc.property(input, (e) => {
        const mine = fastParseForTest(e);
        if (mine === undefined) return;
        fast++;
        const theirs = AuditEventInputSchema.safeParse(e);
        expect(theirs.success).toBe(true);
        expect(mine).toStrictEqual(theirs.data);
      }),
      { numRuns: 5000 },
    );
    // The property is about the fast path: it must actually have been taken, often.
    expect(fast).toBeGreaterThan(100);
  });

  it('takes the fast path for the event an HTTP adapter records, and zod reports refusals with paths', () => {
    const e = {
      tenantId: 'acme',
      actor: { id: 'u1', roles: ['USER'], kind: 'user' },
      action: 'http.post',
      targets: [{ type: 'route', id: 'POST /ops/hello' }],
      outcome: 'success',
      occurredAt: new Date(),
      metadata: { method: 'POST', route: '/ops/hello', status: 200, body: { greeting: 'hi' } },
      request: { ip: '127.0.0.1', userAgent: 'curl/8', requestId: 'r1' },
    };
    expect(fastParseForTest(e)).toStrictEqual(AuditEventInputSchema.parse(e));
    expect(() => parseEventInput({ ...e, action: 'Not An Action' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    const throwing = { ...e };
    Object.defineProperty(throwing, 'actor', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(() => parseEventInput(throwing)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
