import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CIPHERTEXT_PREFIX,
  COMMITMENT_LENGTH,
  KEY_ID_PATTERN,
  TYPE_JSON,
  TYPE_STRING,
  buildAad,
  commitmentMatches,
  decodeBase64UrlStrict,
  describeValue,
  encodeContext,
  headerText,
  isCiphertext,
  nonceLengthOf,
  parseCiphertext,
  transientAad,
} from '../src/format.js';

// The ciphertext format's parsing and layout, decision by decision (issue 12, mutation testing). The
// strictness check is sampled here (every one-byte code unit and a spread of wider ones); the
// exhaustive version is format-strictness.exhaustive.test.ts.

const canonical = (s: string) => Buffer.from(s, 'base64url').toString('base64url') === s;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('strict base64url (sampled)', () => {
  it('agrees with decode-and-re-encode for every one-byte code unit and sampled wider ones, at every length class', () => {
    const units = [
      ...Array.from({ length: 0x100 }, (_, c) => c),
      ...[0x100, 0x141, 0x17f, 0x2b, 0x3d, 0x7ff, 0xd800, 0xdfff, 0xfeff, 0xff0d, 0xff41, 0xffff],
    ];
    let checked = 0;
    for (const len of [0, 1, 2, 3, 4, 13, 14, 15]) {
      const base = randomBytes(len).toString('base64url');
      const positions = [...new Set([0, base.length >> 1, Math.max(0, base.length - 1), base.length])];
      for (const c of units) {
        const ch = String.fromCharCode(c);
        for (const pos of positions) {
          for (const s of [
            base.slice(0, pos) + ch + base.slice(pos + 1),
            base.slice(0, pos) + ch + base.slice(pos),
          ]) {
            checked++;
            const ours = decodeBase64UrlStrict(s);
            if ((ours !== undefined) !== canonical(s)) expect.fail(`disagrees on ${JSON.stringify(s)}`);
            if (ours !== undefined && hex(ours) !== Buffer.from(s, 'base64url').toString('hex')) {
              expect.fail(`decodes ${JSON.stringify(s)} wrongly`);
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('decodes each length class exactly, and returns a plain Uint8Array view', () => {
    expect(decodeBase64UrlStrict('')).toEqual(new Uint8Array(0));
    expect(hex(decodeBase64UrlStrict('AA')!)).toBe('00');
    expect(hex(decodeBase64UrlStrict('AAA')!)).toBe('0000');
    expect(hex(decodeBase64UrlStrict('AAAA')!)).toBe('000000');
    expect(hex(decodeBase64UrlStrict('_-8')!)).toBe('ffef'); // '_' and '-' are 63 and 62
    const v = decodeBase64UrlStrict('AQID')!;
    expect(Object.getPrototypeOf(v)).toBe(Uint8Array.prototype);
    expect([...v]).toEqual([1, 2, 3]);
    // 4k+1 characters never encode anything.
    for (const s of ['A', 'AAAAA', 'AAAAAAAAA']) expect(decodeBase64UrlStrict(s)).toBeUndefined();
    // Trailing bits: 2 chars carry 12 bits for 8 (low 4 must be 0), 3 chars 18 for 16 (low 2 must be 0).
    expect(decodeBase64UrlStrict('AB')).toBeUndefined();
    expect(decodeBase64UrlStrict('AQ')).toBeDefined();
    expect(decodeBase64UrlStrict('AAB')).toBeUndefined();
    expect(decodeBase64UrlStrict('AAE')).toBeDefined();
    expect(decodeBase64UrlStrict('AAC')).toBeUndefined();
    expect(decodeBase64UrlStrict('AAE')!.length).toBe(2);
    // The last character must be in the alphabet even where Node would skip it.
    expect(decodeBase64UrlStrict('AA=')).toBeUndefined();
    expect(decodeBase64UrlStrict('AA.')).toBeUndefined();
    expect(decodeBase64UrlStrict('AAA\u00ff')).toBeUndefined();
  });
});

describe('header, context and AAD layout', () => {
  it('constants of format version 1', () => {
    expect(CIPHERTEXT_PREFIX).toBe('tcf1:');
    expect(COMMITMENT_LENGTH).toBe(32);
    expect([TYPE_STRING, TYPE_JSON]).toEqual([1, 2]);
    expect(nonceLengthOf('x')).toBe(24);
    expect(nonceLengthOf('g')).toBe(12);
    expect(headerText('x', 'dk1')).toBe('tcf1:x:dk1:');
    expect(headerText('g', 'k_2-Z')).toBe('tcf1:g:k_2-Z:');
  });

  it('key ids: 1–64 of [A-Za-z0-9_-], anchored', () => {
    for (const ok of ['a', 'Z9', 'a_b-c', 'k'.repeat(64)]) expect(KEY_ID_PATTERN.test(ok)).toBe(true);
    for (const bad of ['', 'k'.repeat(65), 'a b', 'a:b', 'a.b', 'é', ' a', 'a\n']) {
      expect(KEY_ID_PATTERN.test(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('isCiphertext: strings starting with tcf1: only', () => {
    expect(isCiphertext('tcf1:')).toBe(true);
    expect(isCiphertext('tcf1:x:k:AAAA')).toBe(true);
    expect(isCiphertext('tcf2:x:k:AAAA')).toBe(false);
    expect(isCiphertext(' tcf1:')).toBe(false);
    expect(isCiphertext('TCF1:')).toBe(false);
    expect(isCiphertext(5)).toBe(false);
    expect(isCiphertext(null)).toBe(false);
  });

  it('encodes a context as u32be lengths ‖ UTF-8 parts, with a presence byte for the row id', () => {
    const noRow = encodeContext({ tenantId: 'ab', collection: 'c', field: 'é' });
    expect(hex(noRow)).toBe(
      `00000002${hex(Buffer.from('ab'))}00000001${hex(Buffer.from('c'))}00000002c3a900`,
    );
    const row = encodeContext({ tenantId: 'ab', collection: 'c', field: 'é', rowId: 'r1' });
    expect(hex(row)).toBe(`${hex(noRow).slice(0, -2)}01` + `00000002${hex(Buffer.from('r1'))}`);
    const empty = encodeContext({ tenantId: 'a', collection: 'b', field: 'c', rowId: '' });
    expect(hex(empty).endsWith('0100000000')).toBe(true);
    const header = Buffer.from('tcf1:x:k:');
    const aad = buildAad(header, { tenantId: 'ab', collection: 'c', field: 'é', rowId: 'r1' });
    expect(hex(aad)).toBe(hex(header) + hex(row));
    // Splitting the same characters differently never encodes alike.
    expect(hex(encodeContext({ tenantId: 'ab', collection: 'c', field: 'f' }))).not.toBe(
      hex(encodeContext({ tenantId: 'a', collection: 'bc', field: 'f' })),
    );
  });

  it('the hot path writes the same associated data into its scratch buffer, ASCII or not, short or long', () => {
    const header = Buffer.from('tcf1:g:dk_1:');
    const long = 'é'.repeat(1000); // 2,000 UTF-8 bytes per part: past the scratch buffer, allocated
    const contexts = [
      { tenantId: 'acme', collection: 'settings', field: 'smtpPassword', rowId: '0190a1b2-c3d4' },
      { tenantId: 'acme', collection: 'settings', field: 'smtpPassword' },
      { tenantId: 'a', collection: 'naïve', field: 'x😀y', rowId: 'ü' }, // non-ASCII after ASCII
      { tenantId: 'a', collection: 'c', field: 'f', rowId: '' },
      { tenantId: 'a', collection: long, field: long, rowId: long },
    ];
    const z = 'z'.repeat(200);
    for (const c of contexts) {
      const expected = Buffer.concat([header, encodeContext(c)]).toString('hex');
      expect(hex(buildAad(header, c))).toBe(expected);
      // Fill the scratch buffer with other bytes first: every byte of the next one must be written.
      transientAad(Buffer.from('zzzzzzz'), { tenantId: z, collection: z, field: z, rowId: z });
      expect(hex(transientAad(header, c))).toBe(expected);
    }
    expect(hex(encodeContext(contexts[2]!))).toBe(
      `00000001${hex(Buffer.from('a'))}00000006${hex(Buffer.from('naïve'))}` +
        `00000006${hex(Buffer.from('x😀y'))}0100000002${hex(Buffer.from('ü'))}`,
    );
  });
});

describe('associated data: the scratch prefix kept between calls', () => {
  it('is reused only when the header, tenant, collection and field are all the same', () => {
    const h1 = Buffer.from('tcf1:g:dk_1:');
    const h2 = Buffer.from('tcf1:g:dk_2:');
    const base = { tenantId: 'acme', collection: 'settings', field: 'smtpPassword', rowId: 'r1' };
    // Equal text, another string object: compared by value, encoded alike.
    const sameText = ['sett', 'ings'].join('');
    const long = 'é'.repeat(1000); // past the scratch buffer: a fresh array, scratch untouched
    const steps: [Uint8Array, typeof base | Omit<typeof base, 'rowId'>][] = [
      [h1, base],
      [h1, { ...base, rowId: 'r2' }],
      [h1, { ...base, rowId: 'a much longer row id than the one before it' }],
      [h1, { tenantId: 'acme', collection: 'settings', field: 'smtpPassword' }],
      [h1, { ...base, rowId: 'r3' }],
      [h2, { ...base, rowId: 'r3' }], // another key's header
      [h1, { ...base, tenantId: 'acmf' }], // another tenant
      [h1, { ...base, tenantId: 'acmf', collection: 'settingt' }], // another collection
      [h1, { ...base, tenantId: 'acmf', collection: 'settingt', field: 'smtpPasswore' }], // another field
      [h1, { ...base, collection: long }],
      [h1, { ...base, collection: sameText }],
      [h1, { ...base, collection: 'sé' }],
      [h1, { ...base, collection: 'sé', rowId: 'ü' }],
    ];
    for (const [i, [h, c]] of steps.entries()) {
      expect(hex(transientAad(h, c)), `step ${i}`).toBe(hex(buildAad(h, c)));
    }
  });
});

describe('parseCiphertext and describeValue', () => {
  it('a known header (the last one opened) gives the same result as the full parse, or none', () => {
    const known = {
      text: 'tcf1:g:dk1:',
      bytes: Buffer.from('tcf1:g:dk1:'),
      code: 'g',
      keyId: 'dk1',
    } as const;
    const raw = randomBytes(12 + COMMITMENT_LENGTH + 16 + 5).toString('base64url');
    const outcome = (f: () => ReturnType<typeof parseCiphertext>) => {
      try {
        const p = f();
        return {
          code: p.code,
          keyId: p.keyId,
          body: hex(p.body),
          nonce: hex(p.nonce),
          sealed: hex(p.sealed),
        };
      } catch (e) {
        return { error: (e as { code?: string }).code };
      }
    };
    const texts = [
      `tcf1:g:dk1:${raw}`,
      `tcf1:g:dk12:${raw}`,
      `tcf1:g:dk:${raw}`,
      `tcf1:x:dk1:${raw}`,
      `tcf1:g:dk1::${raw}`,
      `tcf1:g:dk1:${raw}=`,
      `tcf1:g:dk1:${raw.slice(1)}`,
      `tcf1:g:dk1:${raw.replace(/.$/, '+')}`,
      'tcf1:g:dk1:',
    ];
    let shortcut = 0;
    for (const t of texts) {
      const full = outcome(() => parseCiphertext(t));
      expect(
        outcome(() => parseCiphertext(t, known)),
        t,
      ).toEqual(full);
      if (t.startsWith(known.text) && 'keyId' in full) {
        shortcut++;
        // The key id is the known header's own string (no freshly sliced one to hash).
        expect(parseCiphertext(t, known).keyId).toBe(known.keyId);
      }
    }
    // The genuine value takes the shortcut. A body one character shorter is itself canonical
    // base64url about 1 time in 16 (random trailing bits), so it may take it too.
    expect(outcome(() => parseCiphertext(texts[0] as string, known))).toHaveProperty('keyId', 'dk1');
    expect(shortcut).toBeGreaterThanOrEqual(1);
  });

  const body = (code: 'x' | 'g', extra = 1) =>
    Buffer.from(randomBytes(nonceLengthOf(code) + COMMITMENT_LENGTH + 16 + extra)).toString('base64url');

  it('splits nonce ‖ commitment ‖ sealed by the algorithm’s nonce length', () => {
    for (const code of ['x', 'g'] as const) {
      const raw = randomBytes(nonceLengthOf(code) + COMMITMENT_LENGTH + 16 + 5);
      const p = parseCiphertext(`tcf1:${code}:dk_1:${raw.toString('base64url')}`);
      const n = nonceLengthOf(code);
      expect(p.code).toBe(code);
      expect(p.keyId).toBe('dk_1');
      expect(hex(p.nonce)).toBe(raw.subarray(0, n).toString('hex'));
      expect(hex(p.body)).toBe(raw.toString('hex'));
      expect(hex(p.sealed)).toBe(raw.subarray(n + 32).toString('hex'));
      // The commitment is compared in place: bytes n..n+32 of the body, every one of them.
      const commitment = Uint8Array.from(raw.subarray(n, n + 32));
      expect(commitmentMatches(p, commitment)).toBe(true);
      for (let i = 0; i < 32; i++) {
        const other = Uint8Array.from(commitment);
        other[i]! ^= 0x80;
        expect(commitmentMatches(p, other), `byte ${i}`).toBe(false);
      }
      expect(commitmentMatches(p, commitment.subarray(0, 31))).toBe(false);
    }
  });

  it('the body must hold a nonce, a commitment, a tag and at least the type byte', () => {
    for (const code of ['x', 'g'] as const) {
      expect(() => parseCiphertext(`tcf1:${code}:k:${body(code, 1)}`)).not.toThrow();
      expect(() => parseCiphertext(`tcf1:${code}:k:${body(code, 0)}`)).toThrow(
        expect.objectContaining({ code: 'CRYPTO_DECRYPT_FAILED' }),
      );
    }
    // A GCM-sized body is too short for XChaCha's 24-byte nonce.
    const gcmMinimal = Buffer.from(randomBytes(12 + 32 + 16 + 1)).toString('base64url');
    expect(() => parseCiphertext(`tcf1:g:k:${gcmMinimal}`)).not.toThrow();
    expect(() => parseCiphertext(`tcf1:x:k:${gcmMinimal}`)).toThrow();
  });

  it.each([
    ['tcf1:x', 'no separators'],
    ['tcf1:xk:AAAA', 'no colon after the letter'],
    ['tcf1:q:k:BODY', 'unknown letter'],
    ['tcf1:x:k', 'no key id end'],
    ['tcf1:x::BODY', 'empty key id'],
    ['tcf1:x:k k:BODY', 'bad key id'],
    ['tcf1:x:k:not base64!', 'bad body'],
  ])('refuses %j (%s) with CRYPTO_DECRYPT_FAILED', (text) => {
    const t = text.replace('BODY', body('x'));
    expect(() => parseCiphertext(t)).toThrow(expect.objectContaining({ code: 'CRYPTO_DECRYPT_FAILED' }));
    expect(describeValue(t)).toEqual({ kind: 'malformed' });
  });

  it('describes ciphertexts, plaintext and malformed values', () => {
    expect(describeValue(`tcf1:x:dk1:${body('x')}`)).toEqual({
      kind: 'ciphertext',
      formatVersion: 1,
      algorithm: 'xchacha20-poly1305',
      keyId: 'dk1',
    });
    expect(describeValue(`tcf1:g:dk2:${body('g')}`)).toEqual({
      kind: 'ciphertext',
      formatVersion: 1,
      algorithm: 'aes-256-gcm',
      keyId: 'dk2',
    });
    expect(describeValue('hello')).toEqual({ kind: 'plaintext' });
    expect(describeValue('tcf1:')).toEqual({ kind: 'malformed' });
  });
});
