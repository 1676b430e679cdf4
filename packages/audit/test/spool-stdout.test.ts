import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  BatchWriter,
  FileSpool,
  createAuditLog,
  createMemorySink,
  createStdoutSink,
  verifyAuditLines,
} from '../src/index.js';
import { preparedEvents } from '../src/testing.js';

describe('FileSpool', () => {
  it('ignores a torn last line and a line whose checksum fails (neither was acknowledged)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audit-spool-'));
    const spool = await FileSpool.open({ dir });
    const events = preparedEvents('acme', 3);
    await spool.append(events.slice(0, 2));
    await spool.close();
    const log = join(dir, 'spool.log');
    const lines = (await readFile(log, 'utf8')).split('\n');
    await writeFile(log, `${lines[0]}\n${lines[1]!.replace('acme', 'acmf')}\n`);
    await appendFile(log, '0123456789abcdef {"id":"torn'); // no newline: cut by a crash mid-write
    const sink = createMemorySink();
    const reopened = await FileSpool.open({ dir });
    expect(await reopened.replay(sink)).toBe(1);
    expect((await sink.readChain('acme', 0, 10)).map((e) => e.id)).toEqual([events[0]!.id]);
    expect(reopened.hasPending).toBe(false);
    // Events accepted after the torn line are not glued to it.
    const later = preparedEvents('acme', 1);
    await reopened.append(later);
    expect(await reopened.replay(sink)).toBe(1);
    expect((await sink.readChain('acme', 0, 10)).map((e) => e.id)).toEqual([events[0]!.id, later[0]!.id]);
    await reopened.close();
  });

  it('refuses a directory held by another live process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audit-spool-'));
    await writeFile(join(dir, 'spool.lock'), '1'); // pid 1 is always alive
    await expect(FileSpool.open({ dir })).rejects.toMatchObject({ code: 'AUDIT_SPOOL_LOCKED' });
  });

  it('refuses events beyond maxBytes: they are not accepted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audit-spool-'));
    const spool = await FileSpool.open({ dir, maxBytes: 2000 });
    await spool.append(preparedEvents('acme', 1));
    await expect(spool.append(preparedEvents('acme', 10))).rejects.toMatchObject({
      code: 'AUDIT_SPOOL_FAILED',
    });
    await spool.close();
  });
});

describe('BatchWriter', () => {
  it("rejects with AUDIT_BUFFER_FULL instead of waiting when whenFull is 'reject'", async () => {
    const inner = createMemorySink();
    const gate = new Promise<void>(() => undefined); // never opens
    const writer = new BatchWriter(
      { ...inner, append: async () => gate.then(() => []) },
      { maxPending: 2, lingerMs: 0, whenFull: 'reject' },
    );
    void writer.write(preparedEvents('acme', 1)[0]!).catch(() => undefined);
    void writer.write(preparedEvents('acme', 1)[0]!).catch(() => undefined);
    await expect(writer.write(preparedEvents('acme', 1)[0]!)).rejects.toMatchObject({
      code: 'AUDIT_BUFFER_FULL',
    });
  });
});

describe('stdout sink', () => {
  it('prints pino-compatible JSON lines whose chains verify, and tampering with a line is caught', async () => {
    let out = '';
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createAuditLog({
      sink: createStdoutSink({ destination: destination as never, streamId: 's1' }),
    });
    for (let i = 0; i < 5; i++)
      await log.record({
        tenantId: 'acme',
        actor: { id: 'u' },
        action: 'a.b',
        outcome: 'success',
        metadata: { i },
      });
    const lines = out.trim().split('\n');
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
});
