// The engine over each storage driver: a snapshot large enough to go up to S3 as a multipart
// upload, verified and restored from the file system and from S3 over HTTP (s3rver).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryAuditPort, runAsTenant } from '@tenantry/core';
import { settledCode } from '@tenantry/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type SnapshotStorage, createModuleRegistry, createVault } from '../src/index.js';
import { FileSystemSnapshotStorage } from '../src/fs.js';
import { MemorySnapshotRecordStore } from '../src/memory.js';
import { S3SnapshotStorage } from '../src/s3.js';
import { MemoryTable, newCrypto } from './helpers.js';
import { startS3rver } from '@tenantry/testkit/s3';

const MiB = 1024 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

const drivers: Array<[string, () => Promise<SnapshotStorage>]> = [
  [
    'file system',
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'vault-int-'));
      cleanups.push(() => rmSync(root, { recursive: true, force: true }));
      return new FileSystemSnapshotStorage({ root });
    },
  ],
  [
    's3 over HTTP (s3rver), 5 MiB parts',
    async () => {
      const s3 = await startS3rver('vault-int');
      cleanups.push(s3.close);
      return new S3SnapshotStorage({
        client: s3.client,
        bucket: 'vault-int',
        partSize: 5 * MiB,
        queueSize: 2,
      });
    },
  ],
];

describe.each(drivers)('snapshot → verify → restore over %s', (_name, makeStorage) => {
  it('a snapshot over 5 MiB round-trips; a byte flipped in storage is refused before anything changes', async () => {
    const storage = await makeStorage();
    const docs = new MemoryTable('docs');
    // Random payloads do not compress: about 6 MiB of snapshot, two multipart parts and a tail on S3.
    docs.rows.set(
      'a',
      Array.from({ length: 6000 }, (_, i) =>
        JSON.stringify({ id: i, body: randomBytes(1024).toString('base64') }),
      ),
    );
    docs.fill('b', 10);
    const vault = createVault({
      registry: createModuleRegistry([docs.module()]),
      storage,
      records: new MemorySnapshotRecordStore(),
      crypto: newCrypto(),
      audit: new MemoryAuditPort(),
    });
    const asA = <R>(fn: () => Promise<R>) => runAsTenant({ tenantId: 'a', actor: { id: 'admin' } }, fn);
    const snap = await asA(() => vault.snapshot());
    expect(snap.size).toBeGreaterThan(5 * MiB);
    const keys: string[] = [];
    for await (const o of storage.list('tenants/')) keys.push(o.key);
    expect(keys).toEqual([
      `tenants/a/snapshots/${snap.snapshotId}.data`,
      `tenants/a/snapshots/${snap.snapshotId}.manifest.json`,
    ]);
    expect((await asA(() => vault.verify({ snapshotId: snap.snapshotId }))).checksum).toBe(snap.checksum);

    const original = docs.rows.get('a');
    const bBefore = JSON.stringify(docs.rows.get('b'));
    docs.rows.set('a', ['{"changed":true}']);
    await asA(() => vault.restore({ snapshotId: snap.snapshotId }));
    expect(docs.rows.get('a')).toEqual(original);
    expect(JSON.stringify(docs.rows.get('b'))).toBe(bBefore);

    // Flip one byte of the stored object (through the driver itself) and put it back.
    const key = `tenants/a/snapshots/${snap.snapshotId}.data`;
    const parts: Buffer[] = [];
    for await (const c of storage.get(key)) parts.push(Buffer.from(c));
    const bytes = Buffer.concat(parts);
    bytes[3 * MiB] = (bytes[3 * MiB] ?? 0) ^ 0x40;
    await storage.put(
      key,
      (async function* () {
        yield bytes;
      })(),
    );
    docs.rows.set('a', ['{"changed":true}']);
    expect(await settledCode(asA(() => vault.restore({ snapshotId: snap.snapshotId })))).toBe(
      'VAULT_SNAPSHOT_CORRUPT',
    );
    expect(docs.rows.get('a')).toEqual(['{"changed":true}']);
  }, 120_000);
});
