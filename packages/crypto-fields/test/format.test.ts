import { createHash } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect } from 'vitest';
import { _aesGcmImplementations, aeadFor } from '../src/aead.js';
import { ctx, makeFields, seededRandom, itAsSystem as it } from './helpers.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// draft-irtf-cfrg-xchacha-03, Appendix A.3.1 (AEAD_XChaCha20_Poly1305 example).
const XCHACHA = {
  key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
  nonce: '404142434445464748494a4b4c4d4e4f5051525354555657',
  aad: '50515253c0c1c2c3c4c5c6c7',
  plaintext:
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ciphertext:
    'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e',
  tag: 'c0875924c1c7987947deafd8780acf49',
};

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B, test cases 15 and 16 (AES-256).
const GCM_KEY = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
const GCM_IV = 'cafebabefacedbaddecaf888';
const GCM_P =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const GCM_C =
  '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad';
const GCM_CASES = [
  { name: 'test case 15', aad: '', p: GCM_P, c: GCM_C, tag: 'b094dac5d93471bdec1a502270e3cc6c' },
  {
    name: 'test case 16',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    p: GCM_P.slice(0, 120),
    c: GCM_C.slice(0, 120),
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

describe('known-answer tests of the ciphers', () => {
  it('XChaCha20-Poly1305 matches draft-irtf-cfrg-xchacha-03 A.3.1 through our AEAD wrapper', () => {
    const aead = aeadFor('x');
    const pt = new TextEncoder().encode(XCHACHA.plaintext);
    const out = new Uint8Array(pt.length + 16);
    aead.sealInto(hex(XCHACHA.key), hex(XCHACHA.nonce), hex(XCHACHA.aad), pt, out);
    expect(toHex(out)).toBe(XCHACHA.ciphertext + XCHACHA.tag);
    const back = aead.open(hex(XCHACHA.key), hex(XCHACHA.nonce), hex(XCHACHA.aad), out);
    expect(new TextDecoder().decode(back)).toBe(XCHACHA.plaintext);
  });

  for (const impl of ['node', 'noble'] as const) {
    for (const tc of GCM_CASES) {
      it(`AES-256-GCM (${impl}) matches the GCM spec ${tc.name}`, () => {
        const aead = _aesGcmImplementations[impl];
        const p = hex(tc.p);
        const out = new Uint8Array(p.length + 16);
        aead.sealInto(hex(GCM_KEY), hex(GCM_IV), hex(tc.aad), p, out);
        expect(toHex(out)).toBe(tc.c + tc.tag);
        expect(toHex(aead.open(hex(GCM_KEY), hex(GCM_IV), hex(tc.aad), out))).toBe(tc.p);
        out[3]! ^= 1;
        expect(() => aead.open(hex(GCM_KEY), hex(GCM_IV), hex(tc.aad), out)).toThrow();
      });
    }
  }

  it('the bare noble ciphers agree with the vectors too (library version pin)', () => {
    const x = xchacha20poly1305(hex(XCHACHA.key), hex(XCHACHA.nonce), hex(XCHACHA.aad)).encrypt(
      new TextEncoder().encode(XCHACHA.plaintext),
    );
    expect(toHex(x)).toBe(XCHACHA.ciphertext + XCHACHA.tag);
    const g = gcm(hex(GCM_KEY), hex(GCM_IV)).encrypt(hex(GCM_P));
    expect(toHex(g)).toBe(`${GCM_C}b094dac5d93471bdec1a502270e3cc6c`);
  });
});

describe('golden ciphertext of our own format', () => {
  // With injected randomness the first three draws are: key id (9 bytes), data key (32), nonce (24).
  const GOLDEN =
    'tcf1:x:dkf0_JejQRFYoD:5MgAjA35hPCqA21dK95ZO3Z1Uu6fnVQtu6vFH-hF7SijDhj1FTxi_3XysBANxLfXeettABy03IKj7PfbgFd3ADMOtdK-SAg-5T63c-PfQ4ZraiJs2-Fe2Pw';

  it('a fixed data key and nonce produce a fixed ciphertext string (format pinned)', async () => {
    const { fields } = makeFields({ random: seededRandom('golden') });
    const c = await fields.seal('golden plaintext', ctx);
    expect(c).toBe(GOLDEN);
    expect(await fields.open(GOLDEN, ctx)).toBe('golden plaintext');
  });

  it('the documented construction, rebuilt by hand from the spec in format.ts, gives the same string', async () => {
    const draw = (n: number) => createHash('sha256').update(`golden:${n}`).digest();
    const keyId = `dk${draw(0).subarray(0, 9).toString('base64url')}`;
    const dataKey = draw(1);
    const nonce = draw(2).subarray(0, 24);
    const label = (s: string) => new TextEncoder().encode(`tenantry/crypto-fields/v1/${s}`);
    const encKey = hkdf(sha256, dataKey, undefined, label('encryption-key'), 32);
    const commitment = hkdf(sha256, dataKey, undefined, label('key-commitment'), 32);
    const header = `tcf1:x:${keyId}:`;
    const lp = (s: string) => {
      const b = Buffer.from(s, 'utf8');
      const l = Buffer.alloc(4);
      l.writeUInt32BE(b.length);
      return Buffer.concat([l, b]);
    };
    const aad = Buffer.concat([
      Buffer.from(header, 'ascii'),
      lp(ctx.tenantId),
      lp(ctx.collection),
      lp(ctx.field),
      Buffer.from([1]),
      lp(ctx.rowId),
    ]);
    const pt = Buffer.concat([Buffer.from([1]), Buffer.from('golden plaintext', 'utf8')]);
    const sealed = xchacha20poly1305(encKey, nonce, aad).encrypt(pt);
    const expected = header + Buffer.concat([nonce, commitment, sealed]).toString('base64url');
    const { fields } = makeFields({ random: seededRandom('golden') });
    expect(await fields.seal('golden plaintext', ctx)).toBe(expected);
  });
});
