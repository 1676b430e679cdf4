import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64UrlStrict } from '../src/format.js';

// Strict base64url (format.ts) against its reference definition for every UTF-16 code unit: about
// 3.7 million strings, a few seconds. Kept apart from format-strictness.test.ts so that `npm run mutate`
// can leave it out (each mutant it covers would take that long); format-parsing.test.ts samples the
// same space for the mutation run.

/** The reference definition of strict: the text is exactly the canonical encoding of its bytes. */
const canonical = (s: string) => Buffer.from(s, 'base64url').toString('base64url') === s;

describe('strict base64url without re-encoding', () => {
  it('agrees with decode-and-re-encode for every UTF-16 code unit, replaced or inserted anywhere', () => {
    let checked = 0;
    for (const len of [0, 1, 2, 3, 13, 14, 15]) {
      const base = randomBytes(len).toString('base64url');
      const positions = [...new Set([0, base.length >> 1, Math.max(0, base.length - 1), base.length])];
      for (let c = 0; c < 0x10000; c++) {
        const ch = String.fromCharCode(c);
        for (const pos of positions) {
          for (const s of [
            base.slice(0, pos) + ch + base.slice(pos + 1),
            base.slice(0, pos) + ch + base.slice(pos),
          ]) {
            checked++;
            if ((decodeBase64UrlStrict(s) !== undefined) !== canonical(s)) {
              expect.fail(`disagrees on ${JSON.stringify(s)} (U+${c.toString(16)})`);
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(3_000_000);
  });
});
