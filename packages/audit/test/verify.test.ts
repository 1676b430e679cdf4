import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AuditEventInputSchema,
  AuditLimitsSchema,
  type ChainedEvent,
  EMPTY_HEAD,
  GENESIS_HASH,
  type PreparedEvent,
  chainBatch,
  createMasker,
  eventIndexOf,
  hashEvent,
  prepareEvent,
  verifyEvents,
} from '../src/index.js';
import { groupByChain, microsFromMillis } from '../src/chain.js';

// Example-based companions of verify.property.test.ts: each case pins one decision of chain.ts or
// verify.ts that mutation testing showed no test would notice (issue 12).

const T0 = 1_780_000_000_000_000; // epoch µs

function prepared(chain: string, n: number, from = 0): PreparedEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${chain}-${from + i}`,
    chain,
    text: JSON.stringify({ n: from + i, chain }),
    body: {} as PreparedEvent['body'],
  }));
}

/** A genuine chain of `n` events, linked in batches of `batch`. */
function genuine(chain: string, n: number, batch = 3): ChainedEvent[] {
  const out: ChainedEvent[] = [];
  const all = prepared(chain, n);
  for (let i = 0; i < n; i += batch) {
    const last = out[out.length - 1];
    const head = last ? { seq: last.seq, hash: last.hash, recordedAt: last.recordedAt } : EMPTY_HEAD;
    out.push(...chainBatch(head, all.slice(i, i + batch), T0 + i));
  }
  return out;
}

const H = (c: string) => c.repeat(64);

describe('chain construction (chain.ts)', () => {
  it('hashes the documented encoding: SHA-256 of "tenantry-audit-v1\\n" + fields joined by newlines', () => {
    const byHand = createHash('sha256')
      .update(`tenantry-audit-v1\nacme\n7\n${T0}\n${GENESIS_HASH}\n{"a":1}`)
      .digest('hex');
    expect(hashEvent('acme', 7, T0, GENESIS_HASH, '{"a":1}')).toBe(byHand);
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(EMPTY_HEAD).toEqual({ seq: 0, hash: GENESIS_HASH, recordedAt: 0 });
    expect(Object.isFrozen(EMPTY_HEAD)).toBe(true);
  });

  it('every field changes the hash', () => {
    const base = hashEvent('acme', 1, T0, GENESIS_HASH, 'x');
    expect(hashEvent('acmf', 1, T0, GENESIS_HASH, 'x')).not.toBe(base);
    expect(hashEvent('acme', 2, T0, GENESIS_HASH, 'x')).not.toBe(base);
    expect(hashEvent('acme', 1, T0 + 1, GENESIS_HASH, 'x')).not.toBe(base);
    expect(hashEvent('acme', 1, T0, H('1'), 'x')).not.toBe(base);
    expect(hashEvent('acme', 1, T0, GENESIS_HASH, 'y')).not.toBe(base);
  });

  it.each([
    [['acme', '1', T0, GENESIS_HASH, 'x']],
    [[1, 1, T0, GENESIS_HASH, 'x']],
    [['acme', 1, '1', GENESIS_HASH, 'x']],
    [['acme', 1, T0, 5, 'x']],
    [['acme', 1, T0, GENESIS_HASH, {}]],
  ])('hashEvent refuses a field of the wrong type: %j', (args) => {
    expect(() => (hashEvent as (...a: unknown[]) => string)(...args)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('links a batch after the head: consecutive seqs, each prevHash the previous hash, one store time', () => {
    const head = { seq: 41, hash: H('a'), recordedAt: T0 - 5 };
    const out = chainBatch(head, prepared('acme', 3), T0 + 0.75);
    expect(out.map((e) => e.seq)).toEqual([42, 43, 44]);
    expect(out[0]!.prevHash).toBe(H('a'));
    expect(out[1]!.prevHash).toBe(out[0]!.hash);
    expect(out[2]!.prevHash).toBe(out[1]!.hash);
    expect(out.every((e) => e.recordedAt === T0)).toBe(true); // floored to whole µs
    expect(out[0]).toEqual({
      id: 'acme-0',
      chain: 'acme',
      seq: 42,
      recordedAt: T0,
      prevHash: H('a'),
      hash: hashEvent('acme', 42, T0, H('a'), out[0]!.text),
      text: out[0]!.text,
    });
    expect(chainBatch(head, [], T0)).toEqual([]);
  });

  it('never lets the store time go backwards along a chain', () => {
    const head = { seq: 1, hash: H('b'), recordedAt: T0 + 1000 };
    expect(chainBatch(head, prepared('acme', 1), T0)[0]!.recordedAt).toBe(T0 + 1000);
    expect(chainBatch(head, prepared('acme', 1), T0 + 2000)[0]!.recordedAt).toBe(T0 + 2000);
  });

  it.each([
    ['head', null, prepared('a', 1), T0],
    ['head.seq', { seq: -1, hash: GENESIS_HASH, recordedAt: 0 }, prepared('a', 1), T0],
    ['head.seq', { seq: 1.5, hash: GENESIS_HASH, recordedAt: 0 }, prepared('a', 1), T0],
    ['head.hash', { seq: 0, hash: 1, recordedAt: 0 }, prepared('a', 1), T0],
    ['head.recordedAt', { seq: 0, hash: GENESIS_HASH, recordedAt: Number.NaN }, prepared('a', 1), T0],
    ['head.recordedAt', { seq: 0, hash: GENESIS_HASH, recordedAt: '0' }, prepared('a', 1), T0],
    ['events', EMPTY_HEAD, 'x', T0],
    ['events', EMPTY_HEAD, [{ id: 1, chain: 'a', text: 't' }], T0],
    ['events', EMPTY_HEAD, [{ id: 'i', chain: 2, text: 't' }], T0],
    ['events', EMPTY_HEAD, [{ id: 'i', chain: 'a', text: null }], T0],
    ['events', EMPTY_HEAD, [null], T0],
    ['nowMicros', EMPTY_HEAD, prepared('a', 1), Number.POSITIVE_INFINITY],
    ['nowMicros', EMPTY_HEAD, prepared('a', 1), '1'],
  ])('chainBatch refuses a malformed %s', (path, head, events, now) => {
    try {
      chainBatch(head as never, events as never, now as never);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(JSON.stringify((e as { details?: unknown }).details)).toContain(path);
    }
  });

  it('groups events by chain, keeping their order; µs from ms', () => {
    const [a0, a1] = prepared('a', 2);
    const [b0] = prepared('b', 1);
    const groups = groupByChain([a0!, b0!, a1!]);
    expect([...groups.keys()]).toEqual(['a', 'b']);
    expect(groups.get('a')).toEqual([a0, a1]);
    expect(groups.get('b')).toEqual([b0]);
    expect(microsFromMillis(1_780_000_000_123)).toBe(1_780_000_000_123_000);
  });
});

describe('verifyEvents (verify.ts)', () => {
  it('verifies a genuine chain and reports its head', async () => {
    const events = genuine('acme', 10);
    const r = await verifyEvents('acme', [events.slice(0, 4), events.slice(4)]);
    expect(r).toEqual({
      ok: true,
      chain: 'acme',
      checked: 10,
      head: { seq: 10, hash: events[9]!.hash, recordedAt: events[9]!.recordedAt },
    });
    expect(await verifyEvents('acme', [])).toEqual({ ok: true, chain: 'acme', checked: 0, head: null });
  });

  it("refuses another tenant's genuine chain: every hash checks out, but it is not this chain", async () => {
    const globex = genuine('globex', 5);
    expect(await verifyEvents('globex', [globex])).toMatchObject({ ok: true });
    expect(await verifyEvents('acme', [globex])).toEqual({
      ok: false,
      chain: 'acme',
      checked: 0,
      firstBadSeq: 1,
      kind: 'inserted',
    });
    // Spliced in after acme's own events: caught at the first foreign event.
    const acme = genuine('acme', 3);
    const foreign = chainBatch(
      { seq: 3, hash: acme[2]!.hash, recordedAt: acme[2]!.recordedAt },
      prepared('globex', 1),
      T0 + 10,
    );
    expect(await verifyEvents('acme', [acme, foreign])).toMatchObject({
      ok: false,
      checked: 3,
      firstBadSeq: 4,
      kind: 'inserted',
    });
  });

  it('checks a range against its anchor: a disagreeing anchor is anchor-mismatch, an agreeing one passes', async () => {
    const events = genuine('acme', 10);
    const range = events.slice(4); // seq 5..10
    expect(
      await verifyEvents('acme', [range], { fromSeq: 5, anchors: [{ seq: 4, hash: events[3]!.hash }] }),
    ).toMatchObject({ ok: true, checked: 6 });
    expect(await verifyEvents('acme', [range], { fromSeq: 5, anchors: [{ seq: 4, hash: H('e') }] })).toEqual({
      ok: false,
      chain: 'acme',
      checked: 0,
      firstBadSeq: 5,
      kind: 'anchor-mismatch',
    });
    // Without an anchor a range trusts its first prevHash.
    expect(await verifyEvents('acme', [range], { fromSeq: 5 })).toMatchObject({ ok: true, checked: 6 });
    // From 1 the anchor is genesis: a first event linking elsewhere is refused.
    const forged = chainBatch({ seq: 0, hash: H('c'), recordedAt: 0 }, prepared('acme', 2), T0);
    expect(await verifyEvents('acme', [forged])).toMatchObject({
      ok: false,
      firstBadSeq: 1,
      kind: 'anchor-mismatch',
    });
  });

  it('checks anchors inside the range (checkpoint-mismatch) and beyond its end (truncated)', async () => {
    const events = genuine('acme', 8);
    expect(
      await verifyEvents('acme', [events], { anchors: [{ seq: 6, hash: events[5]!.hash }] }),
    ).toMatchObject({ ok: true });
    expect(await verifyEvents('acme', [events], { anchors: [{ seq: 6, hash: H('d') }] })).toMatchObject({
      ok: false,
      checked: 5,
      firstBadSeq: 6,
      kind: 'checkpoint-mismatch',
    });
    expect(
      await verifyEvents('acme', [events.slice(0, 5)], { anchors: [{ seq: 7, hash: events[6]!.hash }] }),
    ).toMatchObject({ ok: false, checked: 5, firstBadSeq: 6, kind: 'truncated' });
    // An anchor beyond toSeq is not a truncation of the requested range.
    expect(
      await verifyEvents('acme', [events.slice(0, 5)], {
        toSeq: 5,
        anchors: [{ seq: 7, hash: events[6]!.hash }],
      }),
    ).toMatchObject({ ok: true, checked: 5 });
    // Anchors are used whatever order they are given in.
    expect(
      await verifyEvents('acme', [events.slice(2)], {
        fromSeq: 3,
        anchors: [
          { seq: 6, hash: events[5]!.hash },
          { seq: 2, hash: events[1]!.hash },
        ],
      }),
    ).toMatchObject({ ok: true, checked: 6 });
  });

  it('toSeq: stops there, and a toSeq past the end is missing at the first absent seq', async () => {
    const events = genuine('acme', 10);
    expect(await verifyEvents('acme', [events], { toSeq: 10 })).toMatchObject({ ok: true, checked: 10 });
    expect(await verifyEvents('acme', [events], { toSeq: 4 })).toEqual({
      ok: true,
      chain: 'acme',
      checked: 4,
      head: { seq: 4, hash: events[3]!.hash, recordedAt: events[3]!.recordedAt },
    });
    expect(await verifyEvents('acme', [events.slice(0, 3), events.slice(3)], { toSeq: 2 })).toMatchObject({
      ok: true,
      checked: 2,
    });
    expect(await verifyEvents('acme', [events], { toSeq: 12 })).toEqual({
      ok: false,
      chain: 'acme',
      checked: 10,
      firstBadSeq: 11,
      kind: 'missing',
    });
    expect(await verifyEvents('acme', [], { toSeq: 1 })).toMatchObject({
      ok: false,
      firstBadSeq: 1,
      kind: 'missing',
    });
    expect(await verifyEvents('acme', [], { toSeq: 0 })).toMatchObject({ ok: true, checked: 0 });
    expect(await verifyEvents('acme', [events.slice(4)], { fromSeq: 5, toSeq: 11 })).toMatchObject({
      ok: false,
      checked: 6,
      firstBadSeq: 11,
      kind: 'missing',
    });
  });

  it('names the first bad seq for a deletion, a duplicate, a modification and an insertion', async () => {
    const events = genuine('acme', 8);
    const without = events.filter((e) => e.seq !== 4);
    expect(await verifyEvents('acme', [without])).toMatchObject({
      ok: false,
      checked: 3,
      firstBadSeq: 4,
      kind: 'missing',
    });
    const dup = [...events.slice(0, 4), events[3]!, ...events.slice(4)];
    expect(await verifyEvents('acme', [dup])).toMatchObject({
      ok: false,
      checked: 4,
      firstBadSeq: 4,
      kind: 'duplicate',
    });
    const edited = events.map((e) => (e.seq === 5 ? { ...e, text: `${e.text} ` } : e));
    expect(await verifyEvents('acme', [edited])).toMatchObject({
      ok: false,
      checked: 4,
      firstBadSeq: 5,
      kind: 'modified',
    });
    // Rewritten with a recomputed hash: the next event's link proves it.
    const e5 = events[4]!;
    const text = `${e5.text} `;
    const rehashed = events.map((e) =>
      e.seq === 5 ? { ...e, text, hash: hashEvent('acme', 5, e.recordedAt, e.prevHash, text) } : e,
    );
    expect(await verifyEvents('acme', [rehashed])).toMatchObject({
      ok: false,
      checked: 5,
      firstBadSeq: 5,
      kind: 'modified',
    });
    // Two forged events inserted after seq 3, renumbering the rest.
    const forged = chainBatch(
      { seq: 3, hash: events[2]!.hash, recordedAt: events[2]!.recordedAt },
      prepared('acme', 2, 100),
      T0 + 50,
    );
    const renumbered = events.slice(3).map((e) => ({ ...e, seq: e.seq + 2 }));
    const r = await verifyEvents('acme', [[...events.slice(0, 3), ...forged, ...renumbered]]);
    expect(r).toMatchObject({ ok: false, firstBadSeq: 4, kind: 'inserted' });
    // A stored field of the wrong type is a modification.
    const typed = events.map((e) => (e.seq === 2 ? { ...e, recordedAt: String(e.recordedAt) as never } : e));
    expect(await verifyEvents('acme', [typed])).toMatchObject({
      ok: false,
      firstBadSeq: 2,
      kind: 'modified',
    });
  });

  it.each([
    ['chain', 1, [], {}],
    ['batches', 'acme', 5, {}],
    ['options', 'acme', [], 'x'],
    ['options.fromSeq', 'acme', [], { fromSeq: 0 }],
    ['options.fromSeq', 'acme', [], { fromSeq: 1.5 }],
    ['options.toSeq', 'acme', [], { toSeq: -1 }],
    ['options.toSeq', 'acme', [], { toSeq: 2.5 }],
    ['options.anchors', 'acme', [], { anchors: {} }],
    ['options.anchors', 'acme', [], { anchors: [{ seq: '1', hash: 'h' }] }],
    ['options.anchors', 'acme', [], { anchors: [{ seq: 1, hash: 2 }] }],
    ['options.anchors', 'acme', [], { anchors: [null] }],
    ['batches', 'acme', [5], {}],
    ['batches', 'acme', [[{ seq: 'x' }]], {}],
    ['batches', 'acme', [[null]], {}],
  ])('refuses a malformed %s with VALIDATION_FAILED', async (path, chain, batches, options) => {
    try {
      await verifyEvents(chain as never, batches as never, options as never);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(JSON.stringify((e as { details?: unknown }).details)).toContain(path);
    }
  });
});

/** A genuine chain of real events (canonical JSON bodies) with the store's query columns. */
function indexed(n: number): ChainedEvent[] {
  const masker = createMasker();
  const limits = AuditLimitsSchema.parse({});
  const prepared = Array.from({ length: n }, (_, i) =>
    prepareEvent(
      {
        ...AuditEventInputSchema.parse({
          actor: { id: `user-${i % 2}` },
          action: i % 2 ? 'invoice.created' : 'plan.changed',
          outcome: 'success',
          targets: [{ type: 'invoice', id: `inv-${i}` }, { type: 'tenant' }],
        }),
        tenantId: 'acme',
      },
      {
        id: `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`,
        now: 1_780_000_000_000 + i,
        masker,
        limits,
      },
    ),
  );
  return chainBatch(EMPTY_HEAD, prepared, T0).map((e) => ({ ...e, index: eventIndexOf(JSON.parse(e.text)) }));
}

describe('verifyEvents: the store’s query columns (index-mismatch)', () => {
  it('passes genuine columns, and reports any column that disagrees with the hashed body', async () => {
    const events = indexed(4);
    expect(await verifyEvents('acme', [events])).toMatchObject({ ok: true, checked: 4 });
    const ix = events[2]!.index!;
    const lies: Array<Record<string, unknown>> = [
      { ...ix, id: 'forged' },
      { ...ix, actorId: 'someone-else' },
      { ...ix, action: 'other.action' },
      { ...ix, occurredAt: ix.occurredAt + 1 },
      { ...ix, targets: [...ix.targets].reverse() },
      { ...ix, targets: ix.targets.slice(1) },
      { ...ix, targets: [...ix.targets, 'extra:'] },
      { ...ix, targets: ix.targets.map((t, i) => (i === 1 ? `${t}x` : t)) },
      { ...ix, targets: 'invoice:' },
    ];
    for (const lie of lies) {
      const forged = events.map((e, i) => (i === 2 ? { ...e, index: lie as never } : e));
      expect(await verifyEvents('acme', [forged]), JSON.stringify(lie)).toEqual({
        ok: false,
        chain: 'acme',
        checked: 2,
        firstBadSeq: 3,
        kind: 'index-mismatch',
      });
      // With checkIndex: false only the chain is proven.
      expect(await verifyEvents('acme', [forged], { checkIndex: false })).toMatchObject({
        ok: true,
        checked: 4,
      });
      expect(await verifyEvents('acme', [forged], { checkIndex: true })).toMatchObject({ ok: false });
    }
    // Events without columns (a store that keeps none) are not index-checked.
    const bare = events.map(({ index: _index, ...e }) => e);
    expect(await verifyEvents('acme', [bare])).toMatchObject({ ok: true, checked: 4 });
  });

  it('a hashed text that is not a JSON event body never matches any columns', async () => {
    const ix = { id: 'i', actorId: 'a', action: 'x', occurredAt: 1, targets: [] };
    for (const text of [
      'not json',
      'null',
      '7',
      '"s"',
      '{"id":"i"}',
      '{"id":"i","actor":{"id":"a"},"action":"x","occurredAt":1,"targets":{}}',
      '{"id":"i","actor":{"id":"a"},"action":"x","occurredAt":1,"targets":[5]}',
    ]) {
      const [e] = chainBatch(EMPTY_HEAD, [{ id: 'i', chain: 'acme', text, body: {} as never }], T0);
      expect(await verifyEvents('acme', [[{ ...e!, index: ix }]]), text).toMatchObject({
        ok: false,
        firstBadSeq: 1,
        kind: 'index-mismatch',
      });
    }
    // The same columns do match the body they were taken from.
    const body = '{"action":"x","actor":{"id":"a"},"id":"i","occurredAt":1,"targets":[]}';
    const [e] = chainBatch(EMPTY_HEAD, [{ id: 'i', chain: 'acme', text: body, body: {} as never }], T0);
    expect(await verifyEvents('acme', [[{ ...e!, index: ix }]])).toMatchObject({ ok: true });
  });
});

describe('verifyEvents: edges mutation testing found', () => {
  it('fromSeq: 1 given explicitly is the default; anchors at the last event are not a truncation', async () => {
    const events = genuine('acme', 6);
    expect(await verifyEvents('acme', [events], { fromSeq: 1 })).toMatchObject({ ok: true, checked: 6 });
    expect(
      await verifyEvents('acme', [events], { anchors: [{ seq: 6, hash: events[5]!.hash }] }),
    ).toMatchObject({ ok: true, checked: 6 });
  });

  it('events forged in right after the anchor are an insertion at the first seq, not a modification', async () => {
    const events = genuine('acme', 5);
    const forged = chainBatch(EMPTY_HEAD, prepared('acme', 2, 100), T0 + 1);
    const renumbered = events.map((e) => ({ ...e, seq: e.seq + 2 }));
    expect(await verifyEvents('acme', [[...forged, ...renumbered]])).toMatchObject({
      ok: false,
      checked: 2,
      firstBadSeq: 1,
      kind: 'inserted',
    });
    // The same from a later anchor.
    const after3 = chainBatch(
      { seq: 3, hash: events[2]!.hash, recordedAt: events[2]!.recordedAt },
      prepared('acme', 1, 200),
      T0 + 2,
    );
    const tail = events.slice(3).map((e) => ({ ...e, seq: e.seq + 1 }));
    expect(
      await verifyEvents('acme', [[...after3, ...tail]], {
        fromSeq: 4,
        anchors: [{ seq: 3, hash: events[2]!.hash }],
      }),
    ).toMatchObject({ ok: false, firstBadSeq: 4, kind: 'inserted' });
  });

  it('a stored prevHash or text that only stringifies to the right value is a modification', async () => {
    const events = genuine('acme', 4);
    const asObject = (v: string) => ({ toString: () => v }) as never;
    const badPrev = events.map((e) => (e.seq === 3 ? { ...e, prevHash: asObject(e.prevHash) } : e));
    expect(await verifyEvents('acme', [badPrev])).toMatchObject({
      ok: false,
      firstBadSeq: 3,
      kind: 'modified',
    });
    const badText = events.map((e) => (e.seq === 3 ? { ...e, text: asObject(e.text) } : e));
    expect(await verifyEvents('acme', [badText])).toMatchObject({
      ok: false,
      firstBadSeq: 3,
      kind: 'modified',
    });
  });

  it('labels every refusal with what, path and message', async () => {
    const details = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return (e as { details?: unknown }).details;
      }
      return 'ok';
    };
    const v = (issues: string, message: string) => ({
      what: 'verify arguments',
      issues: [{ path: issues, message }],
    });
    expect(await details(verifyEvents(1 as never, []))).toEqual(v('chain', 'must be a string'));
    expect(await details(verifyEvents('a', [], 'x' as never))).toEqual(v('options', 'must be an object'));
    expect(await details(verifyEvents('a', [], { fromSeq: 0 }))).toEqual(
      v('options.fromSeq', 'must be an integer >= 1'),
    );
    expect(await details(verifyEvents('a', [], { toSeq: -1 }))).toEqual(
      v('options.toSeq', 'must be an integer >= 0'),
    );
    expect(await details(verifyEvents('a', [], { anchors: {} as never }))).toEqual(
      v('options.anchors', 'must be an array'),
    );
    expect(await details(verifyEvents('a', [], { anchors: [{ seq: 1 }] as never }))).toEqual(
      v('options.anchors', 'must hold { seq, hash } pairs'),
    );
    expect(await details(verifyEvents('a', [5 as never]))).toEqual(
      v('batches', 'must yield arrays of chained events'),
    );
    expect(await details(verifyEvents('a', [[7 as never]]))).toEqual(
      v('batches', 'must yield arrays of chained events'),
    );
  });

  it('chain.ts labels its refusals with what, path and message', () => {
    const details = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as { details?: unknown }).details;
      }
      return 'ok';
    };
    const h = (path: string, message: string) => ({
      what: 'hashed audit event',
      issues: [{ path, message }],
    });
    const hash = hashEvent as (...a: unknown[]) => string;
    expect(details(() => hash(1, 1, 1, 'p', 't'))).toEqual(h('chain', 'must be a string'));
    expect(details(() => hash('c', '1', 1, 'p', 't'))).toEqual(h('seq', 'must be a number'));
    expect(details(() => hash('c', 1, '1', 'p', 't'))).toEqual(h('recordedAt', 'must be a number'));
    expect(details(() => hash('c', 1, 1, 1, 't'))).toEqual(h('prevHash', 'must be a string'));
    expect(details(() => hash('c', 1, 1, 'p', 1))).toEqual(h('text', 'must be a string'));
    const b = (path: string, message: string) => ({
      what: 'chained audit batch',
      issues: [{ path, message }],
    });
    const batch = chainBatch as (...a: unknown[]) => unknown;
    const ok = prepared('a', 1);
    expect(details(() => batch(null, ok, T0))).toEqual(b('head', 'must be a ChainHead'));
    expect(details(() => batch({ seq: -1, hash: 'h', recordedAt: 0 }, ok, T0))).toEqual(
      b('head.seq', 'must be an integer >= 0'),
    );
    expect(details(() => batch({ seq: 0, hash: 1, recordedAt: 0 }, ok, T0))).toEqual(
      b('head.hash', 'must be a string'),
    );
    expect(details(() => batch({ seq: 0, hash: 'h', recordedAt: Number.NaN }, ok, T0))).toEqual(
      b('head.recordedAt', 'must be a finite number'),
    );
    for (const events of [5, {}, 'x', [null]]) {
      expect(details(() => batch(EMPTY_HEAD, events, T0))).toEqual(
        b('events', 'must be an array of prepared events'),
      );
    }
    expect(details(() => batch(EMPTY_HEAD, ok, Number.NaN))).toEqual(
      b('nowMicros', 'must be a finite number'),
    );
  });
});
