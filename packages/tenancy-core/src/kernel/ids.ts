import { systemClock, type Clock } from './ports/clock.js';
import { cryptoRandom, type RandomSource } from './ports/random.js';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562): 48-bit millisecond timestamp then random bits, so ids sort by creation time
 * and cannot be enumerated. Ids made in the same millisecond by one generator keep increasing.
 * @example const id = createUuidV7Generator()();
 */
export function createUuidV7Generator(
  clock: Clock = systemClock,
  random: RandomSource = cryptoRandom,
): () => string {
  let lastMs = -1;
  let lastTail: Uint8Array = new Uint8Array(10);
  return () => {
    const ms = Math.max(clock.now().getTime(), lastMs);
    let tail: Uint8Array;
    if (ms === lastMs) {
      // Same millisecond: increment the previous random tail so ids stay strictly monotonic.
      tail = lastTail.slice();
      for (let i = tail.length - 1; i >= 0; i--) {
        tail[i] = (tail[i]! + 1) & 0xff;
        if (tail[i] !== 0) break;
      }
    } else {
      tail = random.bytes(10);
    }
    lastMs = ms;
    lastTail = tail;
    const b = new Uint8Array(16);
    let t = ms;
    for (let i = 5; i >= 0; i--) {
      b[i] = t % 256;
      t = Math.floor(t / 256);
    }
    b.set(tail, 6);
    b[6] = 0x70 | (b[6]! & 0x0f);
    b[8] = 0x80 | (b[8]! & 0x3f);
    let s = '';
    for (let i = 0; i < 16; i++) {
      s += HEX[b[i]!];
      if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
    }
    return s;
  };
}

/** A UUIDv7 from the system clock and CSPRNG. */
export const uuidv7: () => string = createUuidV7Generator();
