import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** A running s3rver and a client of its own (so a check does not go through the code under test). */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>`: path-style, credentials `S3RVER` / `S3RVER`, region `us-east-1`. */
  readonly endpoint: string;
  readonly port: number;
  readonly client: S3Client;
  /** Every key in the bucket under `prefix`. */
  keys(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * s3rver (an S3-compatible server in Node; no Docker here) on a free loopback port, over HTTP, with a
 * fresh directory and `bucket` created.
 */
export async function startS3rver(bucket: string): Promise<S3rverHandle> {
  const directory = mkdtempSync(join(tmpdir(), 'tenantry-s3rver-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    maxAttempts: 2,
  });
  return {
    endpoint,
    port,
    client,
    async keys(prefix) {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async close() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
