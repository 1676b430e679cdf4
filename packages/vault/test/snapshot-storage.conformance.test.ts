import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformance } from '@tenantry/testkit';
import { describe, expect, it } from 'vitest';
import { FileSystemSnapshotStorage } from '../src/fs.js';
import { MemorySnapshotStorage } from '../src/memory.js';
import { S3SnapshotStorage } from '../src/s3.js';
import { type SnapshotStorageHarness, snapshotStorageConformance } from '../src/testing.js';
import { startS3rver } from '@tenantry/testkit/s3';

const MiB = 1024 * 1024;

type Harness = SnapshotStorageHarness & { close?: () => Promise<void> };
const api = { describe, it, expect };

runConformance<Harness>(
  'SnapshotStorage',
  [
    { name: 'memory', setup: () => ({ storage: new MemorySnapshotStorage() }) },
    {
      name: 'file system',
      setup: () => {
        const root = mkdtempSync(join(tmpdir(), 'vault-fs-'));
        return {
          storage: new FileSystemSnapshotStorage({ root }),
          close: async () => rmSync(root, { recursive: true, force: true }),
        };
      },
      teardown: (h) => h.close?.(),
    },
  ],
  (harness) => snapshotStorageConformance(harness, api),
);

runConformance<Harness>(
  'SnapshotStorage',
  [
    {
      name: 's3 over HTTP (s3rver), 5 MiB parts',
      setup: async () => {
        const s3 = await startS3rver('vault-conformance');
        const storage = new S3SnapshotStorage({
          client: s3.client,
          bucket: 'vault-conformance',
          prefix: 'app/',
          partSize: 5 * MiB,
          queueSize: 2,
        });
        // 12 MiB + 1 byte: three parts of 5, 5 and 2 MiB (a multipart upload).
        return { storage, largeObjectBytes: 12 * MiB + 1, close: s3.close };
      },
      teardown: (h) => h.close?.(),
    },
  ],
  (harness) =>
    snapshotStorageConformance(harness, api, {
      concurrentPutsUnsupported: 's3rver writes objects in place; S3 replaces them atomically',
    }),
);
