import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AuditEventInputSchema,
  AuditLimitsSchema,
  type ChainedEvent,
  EMPTY_HEAD,
  chainBatch,
  createMasker,
  eventIndexOf,
  generateCheckpointKeys,
  hashEvent,
  prepareEvent,
  signCheckpoint,
  verifyCheckpointSignature,
  verifyEvents,
} from '../src/index.js';

const masker = createMasker();
const limits = AuditLimitsSchema.parse({});
const CHAIN = 'acme';

const eventArb = fc.record({
  actor: fc.constantFrom('alice', 'bob', 'carol'),
  action: fc.constantFrom('invoice.created', 'plan.changed', 'secret.rotated'),
  note: fc.string({ maxLength: 20 }),
  n: fc.integer(),
});

/** A genuine chain of `specs.length` events, linked in batches of random sizes. */
function buildChain(
  specs: Array<{ actor: string; action: string; note: string; n: number }>,
  batch: number,
): ChainedEvent[] {
  const prepared = specs.map((s, i) =>
    prepareEvent(
      {
        ...AuditEventInputSchema.parse({
          actor: { id: s.actor },
          action: s.action,
          outcome: 'success',
          metadata: { note: s.note, n: s.n },
        }),
        tenantId: CHAIN,
      },
      {
        id: `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`,
        now: 1_780_000_000_000 + i,
        masker,
        limits,
      },
    ),
  );
  const out: ChainedEvent[] = [];
  for (let i = 0; i < prepared.length; i += batch) {
    const last = out[out.length - 1];
    const head = last ? { seq: last.seq, hash: last.hash, recordedAt: last.recordedAt } : EMPTY_HEAD;
    out.push(...chainBatch(head, prepared.slice(i, i + batch), (1_780_000_000_000 + i) * 1000));
  }
  return out;
}

/** What a store returns: rows in sequence order (stable for ties). */
const asStored = (rows: ChainedEvent[]) => [[...rows].sort((a, b) => a.seq - b.seq)];
const chainArb = fc.tuple(
  fc.array(eventArb, { minLength: 2, maxLength: 40 }),
  fc.integer({ min: 1, max: 7 }),
);
const RUNS = { numRuns: 300 };

type Field = 'text' | 'recordedAt' | 'prevHash' | 'hash' | 'seqSwap';

function forged(seq: number, prev: ChainedEvent | undefined, text: string): ChainedEvent {
  const prevHash = prev?.hash ?? EMPTY_HEAD.hash;
  const recordedAt = prev?.recordedAt ?? 0;
  return {
    id: '01900000-0000-7000-8000-ffffffffffff',
    chain: CHAIN,
    seq,
    recordedAt,
    prevHash,
    text,
    hash: hashEvent(CHAIN, seq, recordedAt, prevHash, text),
  };
}

describe('verify (property-based)', () => {
  it('an untouched chain always verifies, whatever the batch sizes', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, async ([specs, batch]) => {
        const chain = buildChain(specs, batch);
        expect(await verifyEvents(CHAIN, asStored(chain))).toMatchObject({ ok: true, checked: specs.length });
      }),
      RUNS,
    );
  });

  it('any single modification of a stored event is reported at that event', async () => {
    await fc.assert(
      fc.asyncProperty(
        chainArb,
        fc.nat(),
        fc.constantFrom<Field>('text', 'recordedAt', 'prevHash', 'hash'),
        async ([specs, batch], pick, field) => {
          const chain = buildChain(specs, batch);
          const i = pick % chain.length;
          const e = chain[i]!;
          const changed: ChainedEvent =
            field === 'text'
              ? { ...e, text: e.text.replace('"outcome":"success"', '"outcome":"failure"') }
              : field === 'recordedAt'
                ? { ...e, recordedAt: e.recordedAt + 1 }
                : { ...e, [field]: e[field as 'hash'].replace(/^./, (c) => (c === '0' ? '1' : '0')) };
          chain[i] = changed;
          expect(await verifyEvents(CHAIN, asStored(chain))).toMatchObject({
            ok: false,
            firstBadSeq: i + 1,
            kind: 'modified',
          });
        },
      ),
      RUNS,
    );
  });

  it('any single modification whose own hash is recomputed is still reported at that event', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, fc.nat(), async ([specs, batch], pick) => {
        const chain = buildChain(specs, batch);
        const i = pick % (chain.length - 1); // not the last: its rewrite is only visible against a checkpoint
        const e = chain[i]!;
        const text = e.text.replace('"outcome":"success"', '"outcome":"denied"');
        chain[i] = { ...e, text, hash: hashEvent(CHAIN, e.seq, e.recordedAt, e.prevHash, text) };
        expect(await verifyEvents(CHAIN, asStored(chain))).toMatchObject({
          ok: false,
          firstBadSeq: i + 1,
          kind: 'modified',
        });
      }),
      RUNS,
    );
  });

  it('any single deletion (except of the last event) is reported at the deleted sequence number, renumbered or not', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, fc.nat(), fc.boolean(), async ([specs, batch], pick, renumber) => {
        const chain = buildChain(specs, batch);
        const i = pick % (chain.length - 1);
        const rest = chain
          .filter((_, k) => k !== i)
          .map((e) => (renumber && e.seq > i + 1 ? { ...e, seq: e.seq - 1 } : e));
        const r = await verifyEvents(CHAIN, asStored(rest));
        expect(r).toMatchObject({ ok: false, firstBadSeq: i + 1 });
        if (!renumber) expect(r).toMatchObject({ kind: 'missing' });
      }),
      RUNS,
    );
  });

  it('any single insertion of a well-formed forged event is reported at the inserted position, renumbered or not', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, fc.nat(), fc.boolean(), async ([specs, batch], pick, renumber) => {
        const chain = buildChain(specs, batch);
        const i = pick % chain.length; // insert before chain[i] (inserting after the last is a plain append)
        const fake = forged(i + 1, chain[i - 1], '{"forged":true}');
        const rows = renumber
          ? [...chain.slice(0, i), fake, ...chain.slice(i).map((e) => ({ ...e, seq: e.seq + 1 }))]
          : [...chain.slice(0, i), fake, ...chain.slice(i)];
        const r = await verifyEvents(CHAIN, asStored(rows));
        expect(r).toMatchObject({ ok: false, firstBadSeq: i + 1 });
        expect(['inserted', 'duplicate']).toContain((r as { kind: string }).kind);
      }),
      RUNS,
    );
  });

  it('any reordering of two events is reported at the earlier position', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, fc.nat(), fc.nat(), fc.boolean(), async ([specs, batch], a, b, swapSeqs) => {
        const chain = buildChain(specs, batch);
        const i = a % chain.length;
        let j = b % chain.length;
        if (j === i) j = (i + 1) % chain.length;
        const [lo, hi] = i < j ? [i, j] : [j, i];
        const rows = [...chain];
        if (swapSeqs) {
          // Swap the sequence numbers: the store now returns the two events in swapped order.
          rows[lo] = { ...chain[lo]!, seq: chain[hi]!.seq };
          rows[hi] = { ...chain[hi]!, seq: chain[lo]!.seq };
        } else {
          // Swap the contents, keeping the chain fields in place.
          rows[lo] = { ...chain[lo]!, text: chain[hi]!.text, id: chain[hi]!.id };
          rows[hi] = { ...chain[hi]!, text: chain[lo]!.text, id: chain[lo]!.id };
        }
        const r = await verifyEvents(CHAIN, asStored(rows));
        if (chain[lo]!.text === chain[hi]!.text) return; // identical events: nothing changed
        expect(r).toMatchObject({ ok: false, firstBadSeq: lo + 1 });
      }),
      RUNS,
    );
  });

  it('truncating the tail is invisible to the chain alone and caught by a signed checkpoint', async () => {
    const keys = generateCheckpointKeys();
    await fc.assert(
      fc.asyncProperty(chainArb, fc.integer({ min: 1, max: 40 }), async ([specs, batch], cut) => {
        const chain = buildChain(specs, batch);
        const k = Math.min(cut, chain.length);
        const last = chain[chain.length - 1]!;
        const cp = signCheckpoint(
          CHAIN,
          { seq: last.seq, hash: last.hash, recordedAt: last.recordedAt },
          keys.secretKey,
          1,
        );
        expect(verifyCheckpointSignature(cp, [keys.publicKey])).toBe(true);
        const kept = chain.slice(0, chain.length - k);
        // Precisely: without a checkpoint (or other knowledge of the head), a shorter chain is a valid chain.
        expect((await verifyEvents(CHAIN, asStored(kept))).ok).toBe(true);
        expect(await verifyEvents(CHAIN, asStored(kept), { anchors: [cp] })).toMatchObject({
          ok: false,
          firstBadSeq: chain.length - k + 1,
          kind: 'truncated',
        });
      }),
      RUNS,
    );
  });

  it('rewriting an event and recomputing every later hash is caught by a checkpoint taken after it', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, fc.nat(), async ([specs, batch], pick) => {
        const chain = buildChain(specs, batch);
        const head = chain[chain.length - 1]!;
        const i = pick % chain.length;
        const rows: ChainedEvent[] = [];
        for (const [k, e] of chain.entries()) {
          const prevHash = rows[k - 1]?.hash ?? e.prevHash;
          const text = k === i ? e.text.replace('"success"', '"failure"') : e.text;
          rows.push({ ...e, text, prevHash, hash: hashEvent(CHAIN, e.seq, e.recordedAt, prevHash, text) });
        }
        expect((await verifyEvents(CHAIN, asStored(rows))).ok).toBe(true);
        expect(
          await verifyEvents(CHAIN, asStored(rows), { anchors: [{ seq: head.seq, hash: head.hash }] }),
        ).toMatchObject({
          ok: false,
          firstBadSeq: head.seq,
          kind: 'checkpoint-mismatch',
        });
      }),
      RUNS,
    );
  });

  it('a forged checkpoint signature never verifies', () => {
    const keys = generateCheckpointKeys();
    const other = generateCheckpointKeys();
    const cp = signCheckpoint(CHAIN, { seq: 5, hash: 'a'.repeat(64), recordedAt: 1 }, keys.secretKey, 1);
    expect(verifyCheckpointSignature(cp, [keys.publicKey])).toBe(true);
    expect(verifyCheckpointSignature(cp, [other.publicKey])).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, seq: 6 }, [keys.publicKey])).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, hash: 'b'.repeat(64) }, [keys.publicKey])).toBe(false);
  });

  it('any query column that disagrees with the hashed body is reported at that event (index-mismatch)', async () => {
    await fc.assert(
      fc.asyncProperty(
        chainArb,
        fc.nat(),
        fc.constantFrom('id', 'actorId', 'action', 'occurredAt', 'targets'),
        async ([specs, batch], pick, column) => {
          const chain = buildChain(specs, batch).map((e) => ({
            ...e,
            index: eventIndexOf(JSON.parse(e.text)),
          }));
          expect((await verifyEvents(CHAIN, asStored(chain))).ok).toBe(true);
          const i = pick % chain.length;
          const ix = chain[i]!.index;
          const lie = {
            id: { ...ix, id: '01900000-0000-7000-8000-000000000bad' },
            actorId: { ...ix, actorId: 'mallory' },
            action: { ...ix, action: 'nothing.happened' },
            occurredAt: { ...ix, occurredAt: ix.occurredAt + 1 },
            targets: { ...ix, targets: [...ix.targets, 'forged:'] },
          }[column];
          chain[i] = { ...chain[i]!, index: lie };
          expect(await verifyEvents(CHAIN, asStored(chain))).toMatchObject({
            ok: false,
            firstBadSeq: i + 1,
            kind: 'index-mismatch',
          });
        },
      ),
      RUNS,
    );
  });
});
