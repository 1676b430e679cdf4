import { randomFillSync } from 'node:crypto';
import type { RandomSource } from '@tenantry/core';

/**
 * The OS CSPRNG, read in 4 KiB blocks so a 24-byte nonce does not cost a system call each time.
 * Each call returns fresh bytes (copied out of the block, which is then never reused).
 */
export function pooledRandom(blockSize = 4096): RandomSource {
  let pool = new Uint8Array(0);
  let offset = 0;
  return {
    bytes(length: number): Uint8Array {
      if (length > blockSize / 4) return randomFillSync(new Uint8Array(length));
      if (offset + length > pool.length) {
        pool = randomFillSync(new Uint8Array(blockSize));
        offset = 0;
      }
      const out = pool.slice(offset, offset + length);
      pool.fill(0, offset, offset + length);
      offset += length;
      return out;
    },
  };
}
