import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { TenantryError, parseInput, withSpan } from '@tenantry/core';
import { z } from 'zod';
import { VaultError } from '../errors.js';
import type { SnapshotStorage } from './storage.js';
import {
  assertBody,
  assertChunk,
  assertStorageKey,
  assertStoragePrefix,
  bodyFailure,
  isChunkSource,
} from './storage-key.js';

const MiB = 1024 * 1024;

/** Options of {@link S3SnapshotStorage}. */
export const S3SnapshotStorageOptionsSchema = z.strictObject({
  /** Your `S3Client` (`@aws-sdk/client-s3` v3): endpoint, region, credentials, retry strategy and checksums are yours. */
  client: z.custom<S3Client>(
    (v) => typeof v === 'object' && v !== null && typeof (v as { send?: unknown }).send === 'function',
    'must be an S3Client',
  ),
  /** The bucket; it must exist. */
  bucket: z
    .string()
    .min(3)
    .max(63)
    .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'must be a valid S3 bucket name'),
  /** Prepended to every key (e.g. `snapshots/`); empty, or safe segments ending with `/`. @default '' */
  prefix: z
    .string()
    .max(512)
    .regex(/^([A-Za-z0-9_=+~-][A-Za-z0-9._=+~-]*\/)*$/, 'must be empty or safe segments each followed by /')
    .default(''),
  /** Multipart part size in bytes: at least 5 MiB (S3's minimum), at most 512 MiB. Bodies larger than one part are uploaded in parts. @default 8 MiB */
  partSize: z
    .int()
    .min(5 * MiB)
    .max(512 * MiB)
    .default(8 * MiB),
  /** Parts uploaded at once; memory held is about `queueSize × partSize`. @default 4 */
  queueSize: z.int().min(1).max(32).default(4),
});
/** Input of {@link S3SnapshotStorage}'s constructor. */
export type S3SnapshotStorageOptions = z.input<typeof S3SnapshotStorageOptionsSchema>;

function s3Error(error: unknown, operation: string): TenantryError {
  if (error instanceof TenantryError) return error;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const name = typeof e?.name === 'string' ? e.name : undefined;
  if (name === 'AbortError')
    return new VaultError('VAULT_ABORTED', 'The storage operation was aborted.', { cause: error });
  const status = typeof e?.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  return new VaultError('VAULT_STORAGE_UNAVAILABLE', `The S3 snapshot storage failed to ${operation}.`, {
    cause: error,
    details: { driver: 's3', operation, awsCode: name, httpStatus: status },
  });
}

const isNoSuchKey = (error: unknown): boolean => {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

/**
 * {@link SnapshotStorage} on S3 or an S3-compatible store (MinIO, R2, Ceph, …) through the official
 * AWS SDK v3: `GetObject`, `ListObjectsV2`, `DeleteObject`, and `@aws-sdk/lib-storage`'s `Upload`,
 * which sends a body larger than `partSize` as a multipart upload (`queueSize` parts in flight).
 * Retries are the SDK's own (configure `maxAttempts` / `retryStrategy` on your client); this driver
 * adds none.
 *
 * - An object appears under its key only when the upload completes (S3 semantics: a single PUT or
 *   `CompleteMultipartUpload`); a failed or aborted multipart upload is aborted, its parts removed.
 * - Keys follow the same rule as every driver (`VAULT_STORAGE_KEY_INVALID`), are ASCII, and are
 *   listed in S3's byte order, which is their string order.
 *
 * Failures: `VAULT_OBJECT_NOT_FOUND`, `VAULT_ABORTED`, `VAULT_STORAGE_KEY_INVALID`, `VALIDATION_FAILED`
 * and `VAULT_STORAGE_UNAVAILABLE` (retryable; the SDK error as `cause`, its name in `details.awsCode`).
 * @example
 * const storage = new S3SnapshotStorage({ client: new S3Client({ region: 'eu-west-1' }), bucket: 'acme-snapshots' });
 */
export class S3SnapshotStorage implements SnapshotStorage {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #partSize: number;
  readonly #queueSize: number;

  constructor(options: S3SnapshotStorageOptions) {
    const parsed = parseInput(S3SnapshotStorageOptionsSchema, options, 'S3SnapshotStorage options');
    this.#client = parsed.client;
    this.#bucket = parsed.bucket;
    this.#prefix = parsed.prefix;
    this.#partSize = parsed.partSize;
    this.#queueSize = parsed.queueSize;
  }

  async put(
    key: string,
    body: AsyncIterable<Uint8Array>,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ size: number }> {
    assertStorageKey(key);
    assertBody(body);
    const signal = options?.signal;
    return withSpan('vault', 'storage.put', { 'tenantry.vault.storage': 's3' }, async (span) => {
      if (signal?.aborted) throw new VaultError('VAULT_ABORTED', 'The storage operation was aborted.');
      let size = 0;
      let bodyError: unknown;
      const counted = async function* (): AsyncGenerator<Uint8Array> {
        try {
          for await (const chunk of body) {
            assertChunk(chunk);
            size += chunk.byteLength;
            yield chunk;
          }
        } catch (e) {
          bodyError = e;
          throw e;
        }
      };
      const controller = new AbortController();
      const upload = new Upload({
        client: this.#client,
        params: {
          Bucket: this.#bucket,
          Key: this.#prefix + key,
          Body: Readable.from(counted(), { objectMode: false }),
        },
        partSize: this.#partSize,
        queueSize: this.#queueSize,
        leavePartsOnError: false,
        abortController: controller,
      });
      const onAbort = () => controller.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await upload.done();
      } catch (e) {
        if (signal?.aborted)
          throw new VaultError('VAULT_ABORTED', 'The storage operation was aborted.', { cause: e });
        if (bodyError !== undefined) {
          throw bodyFailure(bodyError, 's3');
        }
        throw s3Error(e, 'upload an object');
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      span.setAttribute('tenantry.vault.bytes', size);
      return { size };
    });
  }

  async *get(key: string, options: { signal?: AbortSignal } = {}): AsyncIterable<Uint8Array> {
    assertStorageKey(key);
    const signal = options?.signal;
    if (signal?.aborted) throw new VaultError('VAULT_ABORTED', 'The storage operation was aborted.');
    let body: AsyncIterable<Uint8Array>;
    try {
      const out = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
        signal ? { abortSignal: signal } : {},
      );
      body = out.Body as unknown as AsyncIterable<Uint8Array>;
      if (!isChunkSource(body)) throw new Error('GetObject returned no stream body');
    } catch (e) {
      if (isNoSuchKey(e))
        throw new VaultError('VAULT_OBJECT_NOT_FOUND', 'No snapshot object under that key.', {
          details: { key },
        });
      throw s3Error(e, 'read an object');
    }
    try {
      for await (const chunk of body) {
        if (signal?.aborted) throw new VaultError('VAULT_ABORTED', 'The storage operation was aborted.');
        yield chunk;
      }
    } catch (e) {
      throw s3Error(e, 'read an object');
    } finally {
      (body as { destroy?: () => void }).destroy?.();
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number; lastModified: Date }> {
    assertStoragePrefix(prefix);
    // S3 lists in key (byte) order; some S3-compatible servers do not, so the pages are gathered and
    // sorted (keys are short: a tenant's snapshot list is small).
    const found: { key: string; size: number; lastModified: Date }[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            ContinuationToken: token,
          }),
        );
      } catch (e) {
        throw s3Error(e, 'list objects');
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        found.push({
          key: object.Key.slice(this.#prefix.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified ?? new Date(0),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  async delete(key: string): Promise<void> {
    assertStorageKey(key);
    return withSpan('vault', 'storage.delete', { 'tenantry.vault.storage': 's3' }, async () => {
      try {
        await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }));
      } catch (e) {
        if (isNoSuchKey(e)) return;
        throw s3Error(e, 'delete an object');
      }
    });
  }
}
