import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { settledCode } from '@tenantry/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3SnapshotStorage } from '../src/s3.js';
import { startS3rver } from '@tenantry/testkit/s3';

const MiB = 1024 * 1024;
let s3: Awaited<ReturnType<typeof startS3rver>>;
const sent: string[] = [];

beforeAll(async () => {
  s3 = await startS3rver('vault-s3-test');
  // Record the commands the driver sends (the real client and server; nothing is stubbed).
  s3.client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
});
afterAll(() => s3?.close());

async function* sized(total: number): AsyncGenerator<Uint8Array> {
  for (let left = total; left > 0; left -= 512 * 1024) yield randomBytes(Math.min(left, 512 * 1024));
}

describe('S3SnapshotStorage over HTTP (s3rver)', () => {
  it('a body larger than one part goes up as a multipart upload; a small one as one PutObject', async () => {
    const storage = new S3SnapshotStorage({ client: s3.client, bucket: 'vault-s3-test', partSize: 5 * MiB });
    sent.length = 0;
    expect((await storage.put('t/big', sized(11 * MiB))).size).toBe(11 * MiB);
    expect(sent.filter((c) => c === 'CreateMultipartUploadCommand')).toHaveLength(1);
    expect(sent.filter((c) => c === 'UploadPartCommand')).toHaveLength(3);
    expect(sent.filter((c) => c === 'CompleteMultipartUploadCommand')).toHaveLength(1);
    sent.length = 0;
    await storage.put('t/small', sized(1000));
    expect(sent).toEqual(['PutObjectCommand']);
  });

  it('a multipart upload whose body fails is aborted: no object, AbortMultipartUpload sent (s3rver has no ListMultipartUploads to check further)', async () => {
    const storage = new S3SnapshotStorage({ client: s3.client, bucket: 'vault-s3-test', partSize: 5 * MiB });
    async function* failsAfterTwoParts(): AsyncGenerator<Uint8Array> {
      yield* sized(11 * MiB);
      throw new Error('producer died');
    }
    sent.length = 0;
    expect(await settledCode(storage.put('t/broken', failsAfterTwoParts()))).toBe(
      'VAULT_STORAGE_UNAVAILABLE',
    );
    expect(sent).toContain('AbortMultipartUploadCommand');
    expect(
      await settledCode(
        (async () => {
          for await (const _ of storage.get('t/broken')) {
            /* drain */
          }
        })(),
      ),
    ).toBe('VAULT_OBJECT_NOT_FOUND');
  });

  it('keys live under the configured prefix, and list strips it', async () => {
    const storage = new S3SnapshotStorage({
      client: s3.client,
      bucket: 'vault-s3-test',
      prefix: 'env/prod/',
    });
    await storage.put('tenants/a/x', sized(10));
    const listed: string[] = [];
    for await (const e of storage.list('tenants/')) listed.push(e.key);
    expect(listed).toEqual(['tenants/a/x']);
    const bare = new S3SnapshotStorage({ client: s3.client, bucket: 'vault-s3-test' });
    const raw: string[] = [];
    for await (const e of bare.list('env/')) raw.push(e.key);
    expect(raw).toEqual(['env/prod/tenants/a/x']);
  });

  it('an unreachable endpoint fails with the retryable VAULT_STORAGE_UNAVAILABLE, after the SDK retries', async () => {
    const client = new S3Client({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 2,
    });
    const storage = new S3SnapshotStorage({ client, bucket: 'vault-s3-test' });
    const error = await storage.delete('t/x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VAULT_STORAGE_UNAVAILABLE', retryable: true });
    expect((error as { cause?: { $metadata?: { attempts?: number } } }).cause?.$metadata?.attempts).toBe(2);
    expect(
      await settledCode(
        (async () => {
          for await (const _ of storage.list('t/')) {
            /* drain */
          }
        })(),
      ),
    ).toBe('VAULT_STORAGE_UNAVAILABLE');
    client.destroy();
  });

  it('rejects bad options with VALIDATION_FAILED', () => {
    const base = { client: s3.client, bucket: 'vault-s3-test' };
    for (const bad of [
      undefined,
      {},
      { ...base, client: {} },
      { ...base, bucket: 'Bad_Bucket' },
      { ...base, prefix: '/abs/' },
      { ...base, prefix: 'no-slash' },
      { ...base, partSize: 1024 },
      { ...base, queueSize: 0 },
      { ...base, extra: true },
    ]) {
      expect(() => new S3SnapshotStorage(bad as never)).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
    }
  });
});
