import { randomFillSync } from 'node:crypto';

/** Where randomness comes from, injectable for deterministic tests. Production code uses {@link cryptoRandom}. */
export interface RandomSource {
  /** `length` random bytes. */
  bytes(length: number): Uint8Array;
}

// Small requests (an id's 10 random bytes, made per request and per audit event) are served from a
// pool filled by one CSPRNG call, as Node's own randomUUID does: one system call per ~400 ids instead
// of one per id. Every byte is handed out once and copied, so no two callers share bytes.
const POOL_SIZE = 4096;
const MAX_POOLED = 256;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** The operating system's CSPRNG. */
export const cryptoRandom: RandomSource = Object.freeze({
  bytes: (length: number) => {
    // Anything but a small whole length goes the direct way, which also keeps its errors.
    if (!Number.isInteger(length) || length < 0 || length > MAX_POOLED)
      return randomFillSync(new Uint8Array(length));
    if (poolOffset + length > POOL_SIZE) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const out = pool.slice(poolOffset, poolOffset + length);
    poolOffset += length;
    return out;
  },
});
