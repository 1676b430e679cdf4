import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settledCode } from '@tenantry/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSystemSnapshotStorage } from '../src/fs.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vault-fs-t-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function* body(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}
async function* failing(): AsyncGenerator<Uint8Array> {
  yield randomBytes(1000);
  throw new Error('boom');
}
const read = async (it: AsyncIterable<Uint8Array>) => {
  const out: Buffer[] = [];
  for await (const c of it) out.push(Buffer.from(c));
  return Buffer.concat(out);
};
const keys = async (s: FileSystemSnapshotStorage, prefix = '') => {
  const out: string[] = [];
  for await (const e of s.list(prefix)) out.push(e.key);
  return out;
};

/** Every file under `dir`, relative, including hidden ones. */
function filesUnder(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? filesUnder(dir, rel ? `${rel}/${e.name}` : e.name)
      : [rel ? `${rel}/${e.name}` : e.name],
  );
}

describe('FileSystemSnapshotStorage', () => {
  it('stores a key as the file <root>/<key>, creating the root and directories', async () => {
    const root = join(tempDir(), 'not', 'yet');
    const s = new FileSystemSnapshotStorage({ root });
    await s.put('tenants/t1/snapshots/a.data', body(Buffer.from('hello')));
    expect(filesUnder(root)).toEqual(['tenants/t1/snapshots/a.data']);
  });

  it('a failed or aborted put leaves no part file behind', async () => {
    const root = tempDir();
    const s = new FileSystemSnapshotStorage({ root });
    await s.put('t/keep', body(Buffer.from('x')));
    expect(await settledCode(s.put('t/new', failing()))).toBe('VAULT_STORAGE_UNAVAILABLE');
    const ac = new AbortController();
    async function* aborting(): AsyncGenerator<Uint8Array> {
      yield randomBytes(10);
      ac.abort();
      yield randomBytes(10);
    }
    expect(await settledCode(s.put('t/new2', aborting(), { signal: ac.signal }))).toBe('VAULT_ABORTED');
    expect(filesUnder(root)).toEqual(['t/keep']);
  });

  it('a crash leftover (a hidden .part file) is never listed, and get of its name is refused', async () => {
    const root = tempDir();
    const s = new FileSystemSnapshotStorage({ root });
    await s.put('t/a', body(Buffer.from('x')));
    writeFileSync(join(root, 't', '.a.0123456789ab.part'), 'partial');
    expect(await keys(s, 't/')).toEqual(['t/a']);
    expect(await settledCode(read(s.get('t/.a.0123456789ab.part')))).toBe('VAULT_STORAGE_KEY_INVALID');
  });

  it('no key escapes the root through a symbolic link (T4)', async () => {
    const outside = tempDir();
    writeFileSync(join(outside, 'secret'), 'other tenant');
    const root = tempDir();
    symlinkSync(outside, join(root, 'evil'));
    const s = new FileSystemSnapshotStorage({ root });
    expect(await settledCode(read(s.get('evil/secret')))).toBe('VAULT_STORAGE_KEY_INVALID');
    expect(await settledCode(s.put('evil/planted', body(Buffer.from('x'))))).toBe(
      'VAULT_STORAGE_KEY_INVALID',
    );
    expect(await settledCode(s.put('evil/deeper/planted', body(Buffer.from('x'))))).toBe(
      'VAULT_STORAGE_KEY_INVALID',
    );
    expect(await settledCode(s.delete('evil/secret'))).toBe('VAULT_STORAGE_KEY_INVALID');
    expect(await settledCode(keys(s, 'evil/'))).toBe('VAULT_STORAGE_KEY_INVALID');
    expect(readdirSync(outside)).toEqual(['secret']);
    // A symlinked root itself is fine: the root is resolved once.
    const linkedRoot = join(tempDir(), 'link');
    symlinkSync(outside, linkedRoot);
    const viaLink = new FileSystemSnapshotStorage({ root: linkedRoot });
    await viaLink.put('t/x', body(Buffer.from('ok')));
    expect((await read(viaLink.get('t/x'))).toString()).toBe('ok');
  });

  it('delete removes the directories it left empty, never the root or a non-empty one', async () => {
    const root = tempDir();
    const s = new FileSystemSnapshotStorage({ root });
    await s.put('tenants/a/snapshots/1.data', body(Buffer.from('1')));
    await s.put('tenants/b/snapshots/2.data', body(Buffer.from('2')));
    await s.delete('tenants/a/snapshots/1.data');
    expect(readdirSync(join(root, 'tenants'))).toEqual(['b']);
    await s.delete('tenants/b/snapshots/2.data');
    expect(readdirSync(root)).toEqual([]);
  });

  it('a get that has started keeps reading the object it opened while a put replaces it', async () => {
    const root = tempDir();
    const s = new FileSystemSnapshotStorage({ root, fsync: false });
    const first = randomBytes(2 * 1024 * 1024);
    await s.put('t/x', body(first));
    const it = s.get('t/x')[Symbol.asyncIterator]();
    const head = await it.next();
    await s.put('t/x', body(randomBytes(1000)));
    const rest: Buffer[] = [Buffer.from(head.value as Uint8Array)];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(Buffer.from(r.value));
    expect(Buffer.concat(rest).equals(first)).toBe(true);
  });

  it('rejects bad options with VALIDATION_FAILED', () => {
    for (const bad of [
      undefined,
      {},
      { root: '' },
      { root: 'a\u0000b' },
      { root: '/tmp', extra: 1 },
      { root: '/tmp', fsync: 'yes' },
    ]) {
      expect(() => new FileSystemSnapshotStorage(bad as never)).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
    }
  });

  it('a root that cannot be created fails with VAULT_STORAGE_UNAVAILABLE', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const s = new FileSystemSnapshotStorage({ root: join(file, 'below') });
    expect(await settledCode(s.put('t/x', body(Buffer.from('x'))))).toBe('VAULT_STORAGE_UNAVAILABLE');
  });
});
