// A chain rewritten and re-hashed, then checkpointed again at the same sequence number, leaves two
// validly signed checkpoints that disagree (a fork). Verification must fail on it, whether the
// checkpoints are the store's or one is the auditor's kept copy: keeping either one silently let the
// rewrite pass (A2).
import { runAsTenant } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import {
  type ChainedEvent,
  createAuditLog,
  generateCheckpointKeys,
  hashEvent,
  signCheckpoint,
  verifyEvents,
  verifyExport,
} from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';

interface ExportRecord extends Record<string, unknown> {
  type: string;
}

async function exportedTrail() {
  const keys = generateCheckpointKeys();
  const audit = createAuditLog({
    sink: new MemoryAuditSink(),
    signingKey: keys.secretKey,
    publicKeys: [keys.publicKey],
    delivery: { mode: 'direct' },
  });
  const lines: string[] = [];
  const kept = await runAsTenant({ tenantId: 'acme', actor: { id: 'u1' } }, async () => {
    for (const action of ['invoice.created', 'invoice.voided', 'user.deleted'])
      await audit.record({ actor: { id: 'u1' }, action, outcome: 'success' });
    const checkpoint = await audit.checkpoint();
    for await (const l of audit.exportTrail()) lines.push(l);
    if (!checkpoint) throw new Error('no checkpoint was signed');
    return checkpoint;
  });
  await audit.close();
  return { keys, kept, records: lines.map((l) => JSON.parse(l) as ExportRecord) };
}

/** Event 2 rewritten (voided → viewed) and every later event re-hashed, as a database owner could. */
function rewritten(records: ExportRecord[]): ExportRecord[] {
  const events = records.filter((r) => r.type === 'event').map((r) => ({ ...r }));
  let prev = events[0]?.hash as string;
  for (const e of events.slice(1)) {
    if (e.seq === 2) e.text = String(e.text).replace('invoice.voided', 'invoice.viewed');
    e.prevHash = prev;
    e.hash = hashEvent(String(e.chain), Number(e.seq), Number(e.recordedAt), prev, String(e.text));
    prev = e.hash as string;
  }
  return events;
}

describe('a forked chain (two signed checkpoints disagreeing at one sequence number)', () => {
  it('fails verifyExport with the kept checkpoint, even when the export signs the forged head too', async () => {
    const { keys, kept, records } = await exportedTrail();
    const header = records.filter((r) => r.type !== 'event' && r.type !== 'checkpoint');
    const events = rewritten(records);
    const head = events[events.length - 1] as ExportRecord;
    // The routine checkpoint job signs whatever head is stored: the forged one.
    const nightly = signCheckpoint(
      'acme',
      { seq: Number(head.seq), hash: String(head.hash), recordedAt: Number(head.recordedAt) },
      keys.secretKey,
      Date.now() + 1000,
    );
    const lines = [...header, ...events, { type: 'checkpoint', ...nightly }].map((r) => JSON.stringify(r));
    const withKept = await verifyExport(lines, { publicKeys: [keys.publicKey], checkpoints: [kept] });
    expect(withKept).toMatchObject({ ok: false, firstBadSeq: 3, kind: 'checkpoint-mismatch' });
    // The genuine export still verifies against the kept checkpoint.
    const genuine = records.map((r) => JSON.stringify(r));
    expect(await verifyExport(genuine, { publicKeys: [keys.publicKey], checkpoints: [kept] })).toMatchObject({
      ok: true,
    });
  });

  it('fails verifyEvents given two anchors for one seq with different hashes; equal ones are fine', async () => {
    const { records } = await exportedTrail();
    const events = records.filter((r) => r.type === 'event') as unknown as ChainedEvent[];
    const head = events[events.length - 1] as ChainedEvent;
    const anchors = [
      { seq: head.seq, hash: head.hash },
      { seq: head.seq, hash: 'f'.repeat(64) },
    ];
    // In either order: keeping one of the two (the last, say) must not decide the outcome.
    for (const order of [anchors, [...anchors].reverse()]) {
      expect(await verifyEvents('acme', [events], { anchors: order })).toMatchObject({
        ok: false,
        firstBadSeq: head.seq,
        kind: 'checkpoint-mismatch',
      });
    }
    const same = [anchors[0], anchors[0]] as typeof anchors;
    expect(await verifyEvents('acme', [events], { anchors: same })).toMatchObject({ ok: true });
  });
});
