import { randomFillSync } from 'node:crypto';
import type { RandomSource } from '@tenantry/core';

/**
 * The OS CSPRNG, read in 4 KiB blocks so a 24-byte nonce does not cost a system call each time.
 * Each call returns fresh bytes (copied out of the block, which is then never reused).
 */
export function pooledRandom(blockSize = 4096): RandomSource & FillableRandom {
  let pool = new Uint8Array(0);
  let offset = 0;
  const fillInto = (target: Uint8Array, at: number, length: number): void => {
    if (length > blockSize / 4) {
      randomFillSync(target, at, length);
      return;
    }
    if (offset + length > pool.length) {
      pool = randomFillSync(new Uint8Array(blockSize));
      offset = 0;
    }
    target.set(pool.subarray(offset, offset + length), at);
    pool.fill(0, offset, offset + length);
    offset += length;
  };
  return {
    bytes(length: number): Uint8Array {
      const out = new Uint8Array(length);
      fillInto(out, 0, length);
      return out;
    },
    fillInto,
  };
}

/** A random source that can write straight into a buffer (saves an allocation per nonce). @internal */
export interface FillableRandom {
  fillInto(target: Uint8Array, offset: number, length: number): void;
}
