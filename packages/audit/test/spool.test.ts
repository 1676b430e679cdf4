import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSpool } from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';
import { preparedEvents } from '../src/testing/audit-sink-suite.js';

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
    const sink = new MemoryAuditSink();
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
