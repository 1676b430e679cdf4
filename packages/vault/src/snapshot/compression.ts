import { Readable, type Transform, pipeline } from 'node:stream';
import * as zlib from 'node:zlib';
import { z } from 'zod';
import { VaultError } from '../errors.js';

/** Compression of a snapshot: gzip (default), zstd (Node ≥ 22.15 / 23.8, feature-detected) or none. */
export const CompressionSchema = z.enum(['gzip', 'zstd', 'none']);
export type Compression = z.infer<typeof CompressionSchema>;

type ZstdFactory = (options?: object) => Transform;
const zstd = zlib as unknown as { createZstdCompress?: ZstdFactory; createZstdDecompress?: ZstdFactory };

/** Whether this Node has zstd in `node:zlib` (22.15+, 23.8+). */
export const zstdAvailable = (): boolean =>
  typeof zstd.createZstdCompress === 'function' && typeof zstd.createZstdDecompress === 'function';

function transformOf(compression: Compression, direction: 'compress' | 'decompress'): Transform | undefined {
  if (compression === 'none') return undefined;
  if (compression === 'gzip') return direction === 'compress' ? zlib.createGzip() : zlib.createGunzip();
  const factory = direction === 'compress' ? zstd.createZstdCompress : zstd.createZstdDecompress;
  if (!factory) {
    throw new VaultError(
      'VAULT_FORMAT_UNSUPPORTED',
      'zstd is not available in this Node.js (22.15+ has it); use gzip',
    );
  }
  return factory();
}

/**
 * Pipes `source` through the (de)compressor with backpressure; errors of either side surface from
 * the returned iterable. A decompression failure is `VAULT_SNAPSHOT_CORRUPT`.
 */
export function compressStream(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  direction: 'compress' | 'decompress',
): AsyncIterable<Uint8Array> {
  const transform = transformOf(compression, direction);
  if (!transform) return source;
  const out = pipeline(
    Readable.from(source, { objectMode: false, highWaterMark: 1 << 20 }),
    transform,
    () => undefined,
  );
  if (direction === 'compress') return out;
  return (async function* () {
    try {
      for await (const b of out) yield b as Uint8Array;
    } catch (error) {
      if (error instanceof VaultError) throw error;
      throw new VaultError('VAULT_SNAPSHOT_CORRUPT', 'Snapshot content failed to decompress', {
        cause: error,
      });
    }
  })();
}
