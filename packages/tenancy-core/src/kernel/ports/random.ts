import { randomFillSync } from 'node:crypto';

/** Where randomness comes from, injectable for deterministic tests. Production code uses {@link cryptoRandom}. */
export interface RandomSource {
  /** `length` random bytes. */
  bytes(length: number): Uint8Array;
}

/** The operating system's CSPRNG. */
export const cryptoRandom: RandomSource = Object.freeze({
  bytes: (length: number) => randomFillSync(new Uint8Array(length)),
});
