/**
 * The conformance suite every snapshot storage driver must pass. A custom driver (say, Azure Blob)
 * proves itself with:
 * @example
 * import { describe, expect, it } from 'vitest';
 * import { snapshotStorageConformance } from '@tenantry/vault/testing';
 * describe('my storage', () => snapshotStorageConformance(() => ({ storage: myStorage }), { describe, it, expect }));
 *
 * The test functions are passed in (core's runner-neutral `SuiteApi`), so this module imports no
 * test runner.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type SuiteApi, settledCode } from '@tenantry/core/testing';
import type { SnapshotStorage } from '../storage/storage.js';

/** What the suite needs from a driver. The harness is called once per test; it may return a shared driver (tests use keys of their own). */
export interface SnapshotStorageHarness {
  storage: SnapshotStorage;
  /**
   * Size in bytes of the large-object test, streamed from a generator and compared by SHA-256. Make it
   * larger than the driver's multipart part size to prove multipart uploads (S3: > 5 MiB parts).
   * @default 6 MiB
   */
  largeObjectBytes?: number;
}

/** Options of {@link snapshotStorageConformance}. */
export interface SnapshotStorageSuiteOptions {
  /**
   * Set (to the reason) only for a test server that lacks the guarantee that concurrent writes to one
   * key leave one whole object (s3rver writes in place; S3 itself has it). That test is then
   * registered as skipped (`it.skip`) with the reason in its title.
   */
  concurrentPutsUnsupported?: string;
}

const MiB = 1024 * 1024;
const ns = (): string => `c${randomBytes(6).toString('hex')}`;

async function* chunks(
  data: Uint8Array,
  sizes: readonly number[] = [1, 7, 4096, 65_537],
): AsyncGenerator<Uint8Array> {
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const n = sizes[i++ % sizes.length] as number;
    yield data.subarray(offset, offset + n);
    offset += n;
  }
}

async function readAll(iterable: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of iterable) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

async function listAll(storage: SnapshotStorage, prefix: string) {
  const out: { key: string; size: number; lastModified: Date }[] = [];
  for await (const entry of storage.list(prefix)) out.push(entry);
  return out;
}

/** A body that yields `good` bytes and then fails, as a snapshot writer that crashes halfway would. */
async function* failingBody(good: Uint8Array): AsyncGenerator<Uint8Array> {
  yield good;
  throw new Error('the producer failed halfway');
}

/**
 * Register the snapshot storage conformance tests (the `SnapshotStorage` contract of
 * `@tenantry/vault`): round trips, atomic replacement, failed and aborted uploads leaving nothing
 * visible, missing objects, prefix listing in key order, idempotent delete, one key rule on every
 * driver (`VAULT_STORAGE_KEY_INVALID`), a large streamed object, and concurrent writers.
 */
export function snapshotStorageConformance(
  harness: () => SnapshotStorageHarness,
  api: SuiteApi,
  options: SnapshotStorageSuiteOptions = {},
): void {
  const skipConcurrent = options.concurrentPutsUnsupported;
  const { describe, it, expect } = api;
  describe('SnapshotStorage conformance', () => {
    it('put then get returns the same bytes, whatever the chunking; put reports the size', async () => {
      const { storage } = harness();
      const key = `${ns()}/snapshots/a.data`;
      const data = randomBytes(300_000);
      expect((await storage.put(key, chunks(data))).size).toBe(data.length);
      expect((await readAll(storage.get(key))).equals(data)).toBe(true);
      await storage.delete(key);
    });

    it('an empty body stores an empty object', async () => {
      const { storage } = harness();
      const key = `${ns()}/empty`;
      expect(await storage.put(key, chunks(new Uint8Array(0)))).toEqual({ size: 0 });
      expect((await readAll(storage.get(key))).length).toBe(0);
      expect((await listAll(storage, key)).map((e) => e.size)).toEqual([0]);
      await storage.delete(key);
    });

    it('a second put replaces the object whole', async () => {
      const { storage } = harness();
      const key = `${ns()}/x`;
      await storage.put(key, chunks(randomBytes(50_000)));
      const second = randomBytes(20_000);
      await storage.put(key, chunks(second));
      expect((await readAll(storage.get(key))).equals(second)).toBe(true);
      expect((await listAll(storage, key)).map((e) => e.size)).toEqual([second.length]);
      await storage.delete(key);
    });

    it('get of a missing key fails with VAULT_OBJECT_NOT_FOUND (also after delete)', async () => {
      const { storage } = harness();
      const key = `${ns()}/missing`;
      expect(await settledCode(readAll(storage.get(key)))).toBe('VAULT_OBJECT_NOT_FOUND');
      await storage.put(key, chunks(randomBytes(10)));
      await storage.delete(key);
      expect(await settledCode(readAll(storage.get(key)))).toBe('VAULT_OBJECT_NOT_FOUND');
      // A key that is a "directory" of other keys is not an object either.
      const base = ns();
      await storage.put(`${base}/dir/file`, chunks(randomBytes(10)));
      expect(await settledCode(readAll(storage.get(`${base}/dir`)))).toBe('VAULT_OBJECT_NOT_FOUND');
      await storage.delete(`${base}/dir/file`);
    });

    it('deleting a missing object is not an error, and delete removes only its key', async () => {
      const { storage } = harness();
      const base = ns();
      expect(await settledCode(storage.delete(`${base}/never-written`))).toBe('resolved');
      await storage.put(`${base}/a`, chunks(randomBytes(10)));
      await storage.put(`${base}/ab`, chunks(randomBytes(10)));
      await storage.delete(`${base}/a`);
      expect((await listAll(storage, `${base}/`)).map((e) => e.key)).toEqual([`${base}/ab`]);
      await storage.delete(`${base}/ab`);
      expect(await listAll(storage, `${base}/`)).toEqual([]);
    });

    it('a body that fails halfway leaves no object, and the previous object intact', async () => {
      const { storage } = harness();
      const base = ns();
      const code = await settledCode(storage.put(`${base}/new`, failingBody(randomBytes(100_000))));
      expect(code).not.toBe('resolved');
      expect(code.startsWith('untyped')).toBe(false);
      expect(await settledCode(readAll(storage.get(`${base}/new`)))).toBe('VAULT_OBJECT_NOT_FOUND');
      expect(await listAll(storage, `${base}/`)).toEqual([]);

      const old = randomBytes(30_000);
      await storage.put(`${base}/old`, chunks(old));
      expect(await settledCode(storage.put(`${base}/old`, failingBody(randomBytes(100_000))))).not.toBe(
        'resolved',
      );
      expect((await readAll(storage.get(`${base}/old`))).equals(old)).toBe(true);
      expect((await listAll(storage, `${base}/`)).map((e) => [e.key, e.size])).toEqual([
        [`${base}/old`, old.length],
      ]);
      await storage.delete(`${base}/old`);
    });

    it('an aborted put fails with VAULT_ABORTED and leaves nothing; an already aborted signal writes nothing', async () => {
      const { storage } = harness();
      const base = ns();
      const controller = new AbortController();
      async function* slow(): AsyncGenerator<Uint8Array> {
        yield randomBytes(64 * 1024);
        controller.abort();
        yield randomBytes(64 * 1024);
        yield randomBytes(64 * 1024);
      }
      expect(await settledCode(storage.put(`${base}/a`, slow(), { signal: controller.signal }))).toBe(
        'VAULT_ABORTED',
      );
      expect(
        await settledCode(storage.put(`${base}/b`, chunks(randomBytes(10)), { signal: AbortSignal.abort() })),
      ).toBe('VAULT_ABORTED');
      expect(await listAll(storage, `${base}/`)).toEqual([]);
      await storage.put(`${base}/c`, chunks(randomBytes(10)));
      expect(await settledCode(readAll(storage.get(`${base}/c`, { signal: AbortSignal.abort() })))).toBe(
        'VAULT_ABORTED',
      );
      await storage.delete(`${base}/c`);
    });

    it('list returns the keys under a prefix, in key order, with size and modification time', async () => {
      const { storage } = harness();
      const base = ns();
      const before = Date.now() - 5 * 60_000;
      const keys = [
        `${base}/b/2`,
        `${base}/a`,
        `${base}/b/1`,
        `${base}/a-z`,
        `${base}/ab/x.y`,
        `${base}0/other`,
      ];
      for (const [i, key] of keys.entries()) await storage.put(key, chunks(randomBytes(i + 1)));
      const all = await listAll(storage, `${base}/`);
      expect(all.map((e) => e.key)).toEqual([
        `${base}/a`,
        `${base}/a-z`,
        `${base}/ab/x.y`,
        `${base}/b/1`,
        `${base}/b/2`,
      ]);
      expect(all.map((e) => e.size)).toEqual([2, 4, 5, 3, 1]);
      for (const e of all) {
        expect(e.lastModified instanceof Date).toBe(true);
        expect(e.lastModified.getTime()).toBeGreaterThan(before);
        expect(e.lastModified.getTime()).toBeLessThan(Date.now() + 5 * 60_000);
      }
      // A prefix need not end at a segment boundary; `<base>/` never matches `<base>0/…` (tenant namespaces, T4).
      expect((await listAll(storage, `${base}/a`)).map((e) => e.key)).toEqual([
        `${base}/a`,
        `${base}/a-z`,
        `${base}/ab/x.y`,
      ]);
      expect((await listAll(storage, `${base}/b/`)).map((e) => e.key)).toEqual([
        `${base}/b/1`,
        `${base}/b/2`,
      ]);
      expect(await listAll(storage, `${base}/nothing/`)).toEqual([]);
      expect((await listAll(storage, base)).map((e) => e.key)).toContain(`${base}0/other`);
      for (const key of keys) await storage.delete(key);
      expect(await listAll(storage, base)).toEqual([]);
    });

    it('every driver refuses unsafe keys and prefixes with VAULT_STORAGE_KEY_INVALID, before touching anything', async () => {
      const { storage } = harness();
      const base = ns();
      const bad = [
        '',
        '/abs',
        `${base}/../x`,
        '..',
        `${base}/./x`,
        `${base}//x`,
        `${base}/`,
        `${base}\\x`,
        `${base}/a\u0000b`,
        `${base}/.hidden`,
        `${base}/a\nb`,
        `${base}/é`,
        'x'.repeat(1025),
      ];
      for (const key of bad) {
        expect([key, await settledCode(storage.put(key, chunks(randomBytes(4))))]).toEqual([
          key,
          'VAULT_STORAGE_KEY_INVALID',
        ]);
        expect([key, await settledCode(readAll(storage.get(key)))]).toEqual([
          key,
          'VAULT_STORAGE_KEY_INVALID',
        ]);
        expect([key, await settledCode(storage.delete(key))]).toEqual([key, 'VAULT_STORAGE_KEY_INVALID']);
      }
      for (const prefix of ['/abs', '../', `${base}/../`, `${base}//`, `${base}/.h`, `${base}\\`]) {
        expect([prefix, await settledCode(listAll(storage, prefix))]).toEqual([
          prefix,
          'VAULT_STORAGE_KEY_INVALID',
        ]);
      }
      for (const key of [undefined, null, 42, {}] as unknown as string[]) {
        expect(await settledCode(storage.put(key, chunks(randomBytes(4))))).toBe('VAULT_STORAGE_KEY_INVALID');
      }
      expect(await settledCode(storage.put(`${base}/k`, 42 as unknown as AsyncIterable<Uint8Array>))).toBe(
        'VALIDATION_FAILED',
      );
      expect(await listAll(storage, `${base}/`)).toEqual([]);
    });

    it('a body yielding something other than bytes fails with VALIDATION_FAILED and stores nothing', async () => {
      const { storage } = harness();
      const key = `${ns()}/k`;
      async function* strings(): AsyncGenerator<Uint8Array> {
        yield randomBytes(10);
        yield 'text' as unknown as Uint8Array;
      }
      expect(await settledCode(storage.put(key, strings()))).toBe('VALIDATION_FAILED');
      expect(await settledCode(readAll(storage.get(key)))).toBe('VAULT_OBJECT_NOT_FOUND');
    });

    it('a large object streams through (multipart where the driver has it) and reads back identical', async () => {
      const h = harness();
      const size = h.largeObjectBytes ?? 6 * MiB;
      const key = `${ns()}/large.data`;
      const seed = randomBytes(MiB + 13);
      const expected = createHash('sha256');
      async function* body(): AsyncGenerator<Uint8Array> {
        let left = size;
        let i = 0;
        while (left > 0) {
          const n = Math.min(left, 256 * 1024 + (i % 7));
          const chunk = Buffer.from(seed.subarray(i % 1000, (i % 1000) + n));
          chunk.writeUInt32BE(i, 0);
          expected.update(chunk);
          yield chunk;
          left -= n;
          i++;
        }
      }
      expect((await h.storage.put(key, body())).size).toBe(size);
      const actual = createHash('sha256');
      let read = 0;
      for await (const chunk of h.storage.get(key)) {
        actual.update(chunk);
        read += chunk.byteLength;
      }
      expect(read).toBe(size);
      expect(actual.digest('hex')).toBe(expected.digest('hex'));
      await h.storage.delete(key);
    }, 120_000);

    const concurrentTitle = 'concurrent puts to one key leave one whole body, never a mix';
    const concurrentPuts = async (): Promise<void> => {
      const { storage } = harness();
      const key = `${ns()}/contended`;
      const bodies = [randomBytes(200_000), randomBytes(200_000), randomBytes(200_000)];
      await Promise.all(bodies.map((b) => storage.put(key, chunks(b, [8192]))));
      const got = await readAll(storage.get(key));
      expect(bodies.some((b) => b.equals(got))).toBe(true);
      expect((await listAll(storage, key)).length).toBe(1);
      await storage.delete(key);
    };
    if (skipConcurrent === undefined) {
      it(concurrentTitle, concurrentPuts);
    } else {
      // Reported as skipped (with the reason in its title) by runners whose `it` has `.skip`, so it
      // never reads as a pass; runners without it do not register the case at all.
      const skip = (it as SuiteApi['it'] & { skip?: SuiteApi['it'] }).skip;
      skip?.(`${concurrentTitle} [skipped: ${skipConcurrent}]`, concurrentPuts);
    }
  });
}
