import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { runConformance } from '@tenantry/testkit';
import S3rver from 's3rver';
import { describe, expect, it } from 'vitest';
import { FileSystemSnapshotStorage } from '../src/fs.js';
import { MemorySnapshotStorage } from '../src/memory.js';
import { S3SnapshotStorage } from '../src/s3.js';
import { type SnapshotStorageHarness, snapshotStorageConformance } from '../src/testing.js';

const MiB = 1024 * 1024;

/** s3rver (an S3-compatible server in Node) on a free port, over HTTP, with a fresh directory and bucket. */
export async function startS3rver(bucket: string): Promise<{ client: S3Client; close: () => Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), 'vault-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run();
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    maxAttempts: 2,
  });
  return {
    client,
    close: async () => {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

type Harness = SnapshotStorageHarness & { close?: () => Promise<void> };

runConformance<Harness>(
  'SnapshotStorage',
  [
    { name: 'memory', setup: () => ({ storage: new MemorySnapshotStorage() }) },
    {
      name: 'file system',
      setup: () => {
        const root = mkdtempSync(join(tmpdir(), 'vault-fs-'));
        return { storage: new FileSystemSnapshotStorage({ root }), close: async () => rmSync(root, { recursive: true, force: true }) };
      },
      teardown: (h) => h.close?.(),
    },
    {
      name: 's3 over HTTP (s3rver), 5 MiB parts',
      setup: async () => {
        const s3 = await startS3rver('vault-conformance');
        const storage = new S3SnapshotStorage({ client: s3.client, bucket: 'vault-conformance', prefix: 'app/', partSize: 5 * MiB, queueSize: 2 });
        // 12 MiB + 1 byte: three parts of 5, 5 and 2 MiB (a multipart upload).
        return { storage, largeObjectBytes: 12 * MiB + 1, close: s3.close };
      },
      teardown: (h) => h.close?.(),
    },
  ],
  (harness) => snapshotStorageConformance(harness, { describe, it, expect }),
);
