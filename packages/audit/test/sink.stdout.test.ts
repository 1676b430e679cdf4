import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../src/index.js';
import { StdoutAuditSink, verifyAuditLines } from '../src/stdout.js';
import { inTenant } from './helpers.js';

/** A destination that keeps what is written to it. */
function captured(): { destination: Writable; text: () => string } {
  let out = '';
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { destination, text: () => out };
}

describe('stdout sink', () => {
  it('prints pino-compatible JSON lines whose chains verify, and tampering with a line is caught', async () => {
    const { destination, text } = captured();
    const log = createAuditLog({
      sink: new StdoutAuditSink({ destination: destination as never, streamId: 's1' }),
    });
    for (let i = 0; i < 5; i++)
      await inTenant('acme', log).record({
        tenantId: 'acme',
        actor: { id: 'u' },
        action: 'a.b',
        outcome: 'success',
        metadata: { i },
      });
    const lines = text().trim().split('\n');
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ level: 30, msg: 'audit', audit: { stream: 's1', chain: 'acme', seq: 1 } });
    expect(typeof first.time).toBe('number');
    expect(await verifyAuditLines(lines)).toEqual([
      expect.objectContaining({ ok: true, checked: 5, stream: 's1' }),
    ]);
    const tampered = lines.map((l, i) => (i === 2 ? l.replace('"i":2', '"i":7') : l));
    expect(await verifyAuditLines(tampered)).toEqual([
      expect.objectContaining({ ok: false, firstBadSeq: 3, kind: 'modified' }),
    ]);
  });

  it('prints one parseable line per event whatever the stream id, message and event hold, the event as its hashed text', async () => {
    const { destination, text } = captured();
    const streamId = 'line"\nbreak\u2028\\';
    const sink = new StdoutAuditSink({ destination: destination as never, streamId, msg: 'a "quoted"\nmsg' });
    const log = createAuditLog({ sink });
    const tricky = { text: 'x"}\n{"level":60', emoji: '\u{1F600}', nested: { n: [1, 2.5, null, true] } };
    await inTenant('acme', log).record({
      actor: { id: 'u' },
      action: 'a.b',
      outcome: 'success',
      metadata: tricky,
    });
    await inTenant('globex', log).record({ actor: { id: 'v' }, action: 'a.c', outcome: 'failure' });
    await log.flush?.();
    const lines = text().trim().split('\n');
    expect(lines).toHaveLength(2);
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.map((p) => [p.msg, p.audit.stream, p.audit.chain, p.audit.seq])).toEqual([
      ['a "quoted"\nmsg', streamId, 'acme', 1],
      ['a "quoted"\nmsg', streamId, 'globex', 1],
    ]);
    expect(parsed[0].audit.event.metadata).toEqual(tricky);
    expect(await verifyAuditLines(lines)).toEqual([
      expect.objectContaining({ ok: true, checked: 1, chain: 'acme' }),
      expect.objectContaining({ ok: true, checked: 1, chain: 'globex' }),
    ]);
  });
});
