// A checkpoint is a signature over the chain's head: it must never vouch for a chain that does not
// verify. `checkpoint` walks the events after the latest trusted checkpoint before it signs (A2).
// The store here is the memory sink seen through a "database owner" who edits what it returns
// (fault injection around the real sink, not a mock of the log under test); the PostgreSQL case is
// in sink.postgres.test.ts.
import { runAsTenant } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import {
  type AuditSink,
  type ChainedEvent,
  type Checkpoint,
  GENESIS_HASH,
  createAuditLog,
  generateCheckpointKeys,
  hashEvent,
  signCheckpoint,
} from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';

type Rewrite = (events: ChainedEvent[]) => ChainedEvent[];

/** The memory sink, read through `rewrite` (what an owner with write access left in the store). */
function editableStore() {
  const inner = new MemoryAuditSink();
  const state: { rewrite?: Rewrite; hideCheckpoints?: boolean; reads: number[] } = { reads: [] };
  const all = async (chain: string) => {
    const events = await inner.readChain(chain, 0, 1_000_000);
    return state.rewrite ? state.rewrite(events.map((e) => ({ ...e }))) : events;
  };
  const sink: AuditSink = {
    name: 'edited-memory',
    capabilities: inner.capabilities,
    append: (events, opts) => inner.append(events, opts),
    head: async (chain) => {
      const last = (await all(chain)).at(-1);
      return last ? { seq: last.seq, hash: last.hash, recordedAt: last.recordedAt } : null;
    },
    readChain: async (chain, after, limit, toSeq) => {
      state.reads.push(after);
      return (await all(chain))
        .filter((e) => e.seq > after && (toSeq === undefined || e.seq <= toSeq))
        .slice(0, limit);
    },
    query: (q) => inner.query(q),
    putCheckpoint: (cp) => inner.putCheckpoint(cp),
    listCheckpoints: async (chain) => (state.hideCheckpoints ? [] : inner.listCheckpoints(chain)),
  };
  return { sink, inner, state };
}

/** Rehash every event from `fromSeq` on, as an owner who rewrote history would. */
const rehashedFrom =
  (fromSeq: number, edit: (e: ChainedEvent) => ChainedEvent = (e) => e): Rewrite =>
  (events) => {
    let prev = GENESIS_HASH;
    return events.map((e) => {
      if (e.seq < fromSeq) {
        prev = e.hash;
        return e;
      }
      const edited = edit(e);
      const hash = hashEvent(edited.chain, edited.seq, edited.recordedAt, prev, edited.text);
      const out = { ...edited, prevHash: prev, hash };
      prev = hash;
      return out;
    });
  };

const voidToView = (e: ChainedEvent): ChainedEvent =>
  e.seq === 2 ? { ...e, text: e.text.replace('invoice.voided', 'invoice.viewed') } : e;

async function setup(opts: { publicKeysOmitOwn?: boolean } = {}) {
  const keys = generateCheckpointKeys();
  const store = editableStore();
  const log = createAuditLog({
    sink: store.sink,
    signingKey: keys.secretKey,
    publicKeys: opts.publicKeysOmitOwn ? [] : [keys.publicKey],
    delivery: { mode: 'direct' },
  });
  const inAcme = <R>(fn: () => Promise<R>) =>
    Promise.resolve(runAsTenant({ tenantId: 'acme', actor: { id: 'u1' } }, fn));
  const record = (action: string) =>
    inAcme(() => log.record({ actor: { id: 'u1' }, action, outcome: 'success' }));
  const checkpoint = (kept?: Checkpoint[]) =>
    inAcme(() => log.checkpoint(undefined, kept ? { checkpoints: kept } : undefined));
  const refusal = async (kept?: Checkpoint[]) =>
    checkpoint(kept).then(
      () => undefined,
      (e: { code?: string; details?: unknown }) => ({ code: e.code, details: e.details }),
    );
  for (const action of ['invoice.created', 'invoice.voided', 'user.deleted']) await record(action);
  return { keys, store, log, record, checkpoint, refusal };
}

describe('checkpoint verifies the chain before it signs', () => {
  it('signs an intact chain, and again after new events, walking only the events since the last checkpoint', async () => {
    const { store, record, checkpoint } = await setup();
    const first = await checkpoint();
    expect(first).toMatchObject({ chain: 'acme', seq: 3 });
    expect(store.state.reads).toEqual([0]); // no checkpoint yet: walked from the first event
    for (const action of ['invoice.created', 'invoice.created']) await record(action);
    store.state.reads.length = 0;
    expect(await checkpoint()).toMatchObject({ seq: 5 });
    expect(store.state.reads).toEqual([3]); // only events 4 and 5
    store.state.reads.length = 0;
    expect(await checkpoint()).toMatchObject({ seq: 5 }); // nothing new: no walk at all
    expect(store.state.reads).toEqual([]);
    expect((await store.inner.listCheckpoints('acme')).map((c) => c.seq)).toEqual([3, 5, 5]);
  });

  it('trusts its own earlier checkpoints even when publicKeys omits its key', async () => {
    const { record, checkpoint } = await setup({ publicKeysOmitOwn: true });
    await checkpoint();
    await record('invoice.created');
    expect(await checkpoint()).toMatchObject({ seq: 4 });
  });

  it('refuses, signing and storing nothing, when an event was modified without rehashing', async () => {
    const { store, refusal } = await setup();
    store.state.rewrite = (events) => events.map(voidToView);
    expect(await refusal()).toEqual({
      code: 'AUDIT_CHAIN_BROKEN',
      details: { chain: 'acme', firstBadSeq: 2, kind: 'modified' },
    });
    expect(await store.inner.listCheckpoints('acme')).toEqual([]);
  });

  it('refuses a chain rewritten and rehashed behind its stored checkpoint', async () => {
    const { store, record, checkpoint, refusal } = await setup();
    await checkpoint();
    await record('invoice.created');
    store.state.rewrite = rehashedFrom(2, voidToView);
    expect(await refusal()).toMatchObject({
      code: 'AUDIT_CHAIN_BROKEN',
      details: { firstBadSeq: 4, kind: 'anchor-mismatch' },
    });
    expect((await store.inner.listCheckpoints('acme')).map((c) => c.seq)).toEqual([3]);
  });

  it('refuses it against a kept checkpoint when the stored ones were removed', async () => {
    const { store, record, checkpoint, refusal } = await setup();
    const kept = await checkpoint();
    if (!kept) throw new Error('no checkpoint');
    await record('invoice.created');
    store.state.rewrite = rehashedFrom(2, voidToView);
    store.state.hideCheckpoints = true;
    expect(await refusal([kept])).toMatchObject({ code: 'AUDIT_CHAIN_BROKEN' });
    // Without any checkpoint a consistently rehashed chain cannot be told from a genuine one: that is
    // why checkpoints are kept outside the store (README, "What verification proves").
    expect(await checkpoint()).toMatchObject({ seq: 4 });
  });

  it('refuses when the head itself was rewritten after the last checkpoint, or no new events but a different head', async () => {
    const { store, checkpoint, refusal } = await setup();
    await checkpoint();
    store.state.rewrite = rehashedFrom(3, (e) =>
      e.seq === 3 ? { ...e, text: e.text.replace('user', 'role') } : e,
    );
    expect(await refusal()).toMatchObject({
      code: 'AUDIT_CHAIN_BROKEN',
      details: { firstBadSeq: 3, kind: 'checkpoint-mismatch' },
    });
  });

  it('refuses a truncated tail (the head below a trusted checkpoint)', async () => {
    const { store, record, checkpoint, refusal } = await setup();
    await record('invoice.created');
    await checkpoint();
    store.state.rewrite = (events) => events.filter((e) => e.seq <= 2);
    expect(await refusal()).toMatchObject({
      code: 'AUDIT_CHAIN_BROKEN',
      details: { firstBadSeq: 3, kind: 'truncated' },
    });
  });

  it('refuses a deleted event and an inserted one after the checkpoint', async () => {
    const { store, record, checkpoint, refusal } = await setup();
    await checkpoint();
    for (const action of ['invoice.created', 'invoice.sent', 'invoice.paid']) await record(action);
    store.state.rewrite = (events) => events.filter((e) => e.seq !== 5);
    expect(await refusal()).toMatchObject({ details: { firstBadSeq: 5, kind: 'missing' } });
    store.state.rewrite = (events) => {
      const forged = { ...(events[4] as ChainedEvent), seq: 6 };
      return [...events.slice(0, 5), forged, ...events.slice(5).map((e) => ({ ...e, seq: e.seq + 1 }))];
    };
    expect(await refusal()).toMatchObject({ code: 'AUDIT_CHAIN_BROKEN' });
  });

  it('refuses a stored checkpoint signed by a key it does not trust', async () => {
    const { store, refusal } = await setup();
    const stranger = generateCheckpointKeys();
    const head = await store.sink.head?.('acme');
    if (!head) throw new Error('no head');
    await store.inner.putCheckpoint(signCheckpoint('acme', head, stranger.secretKey, Date.now()));
    expect(await refusal()).toMatchObject({ code: 'AUDIT_CHECKPOINT_INVALID' });
  });

  it('validates its options', async () => {
    const { log } = await setup();
    const r = await Promise.resolve(
      runAsTenant({ tenantId: 'acme', actor: { id: 'u1' } }, () =>
        log.checkpoint(undefined, { checkpoints: 'nope' } as never),
      ),
    ).catch((e: { code?: string }) => e.code);
    expect(r).toBe('VALIDATION_FAILED');
  });
});
