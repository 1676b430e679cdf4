import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Algorithms, TAG_LENGTH, _aesGcmImplementations, aeadFor, hasNativeAesGcm } from '../src/aead.js';

// The AEAD wrappers one by one (issue 12, mutation testing): names, codes, nonce and tag lengths, the
// choice of implementation, and the two AES-GCM implementations agreeing byte for byte.

const seal = (
  impl: ReturnType<typeof aeadFor>,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  pt: Uint8Array,
) => {
  const out = new Uint8Array(pt.length + TAG_LENGTH);
  impl.sealInto(key, nonce, aad, pt, out);
  return out;
};

describe('AEAD wrappers', () => {
  it('name the algorithms by one-letter codes, with 16-byte tags', () => {
    expect(Algorithms).toEqual({ 'xchacha20-poly1305': 'x', 'aes-256-gcm': 'g' });
    expect(TAG_LENGTH).toBe(16);
    expect(aeadFor('x')).toMatchObject({ code: 'x', name: 'xchacha20-poly1305', nonceLength: 24 });
    expect(aeadFor('g')).toMatchObject({ code: 'g', name: 'aes-256-gcm', nonceLength: 12 });
    expect(_aesGcmImplementations.noble).toMatchObject({ code: 'g', name: 'aes-256-gcm', nonceLength: 12 });
  });

  it('use native AES-GCM here, and the noble one only when forced', () => {
    expect(hasNativeAesGcm()).toBe(true);
    expect(hasNativeAesGcm()).toBe(true); // memoised answer is the same
    expect(aeadFor('g')).toBe(_aesGcmImplementations.node);
    expect(aeadFor('g', { forceNoble: true })).toBe(_aesGcmImplementations.noble);
    expect(aeadFor('g', { forceNoble: false })).toBe(_aesGcmImplementations.node);
    expect(aeadFor('x', { forceNoble: true })).toBe(aeadFor('x'));
  });

  it.each([0, 1, 15, 16, 17, 64, 1000])(
    'native and noble AES-GCM produce the same bytes for a %i-byte plaintext, and each opens the other',
    (n) => {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const aad = randomBytes(n % 7);
      const pt = randomBytes(n);
      const { node, noble } = _aesGcmImplementations;
      const a = seal(node, key, nonce, aad, pt);
      const b = seal(noble, key, nonce, aad, pt);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      expect(Buffer.from(node.open(key, nonce, aad, b)).equals(pt)).toBe(true);
      expect(Buffer.from(noble.open(key, nonce, aad, a)).equals(pt)).toBe(true);
      expect(node.open(key, nonce, aad, a)).toHaveLength(n);
    },
  );

  // seal() writes the plaintext where its ciphertext goes and encrypts in place (no plaintext copy to
  // allocate and zero): every implementation must accept a plaintext view that starts where `out` does,
  // produce the same bytes as with separate buffers, and leave no plaintext byte behind.
  it.each([
    ['native AES-GCM', _aesGcmImplementations.node, 12],
    ['noble AES-GCM', _aesGcmImplementations.noble, 12],
    ['XChaCha20-Poly1305', aeadFor('x'), 24],
  ] as const)('%s encrypts in place (plaintext view at the start of out)', (_name, impl, nonceLength) => {
    for (const n of [1, 65, 4096]) {
      const key = randomBytes(32);
      const nonce = randomBytes(nonceLength);
      const aad = randomBytes(9);
      const pt = Buffer.alloc(n, 0x78); // 'x' repeated: easy to spot if left behind
      const ref = seal(impl, key, nonce, aad, pt);
      const buf = new Uint8Array(5 + n + TAG_LENGTH);
      buf.set(pt, 5);
      impl.sealInto(key, nonce, aad, buf.subarray(5, 5 + n), buf.subarray(5));
      expect(Buffer.from(buf.subarray(5)).equals(Buffer.from(ref))).toBe(true);
      expect(Buffer.from(impl.open(key, nonce, aad, buf.subarray(5))).equals(pt)).toBe(true);
    }
  });

  it('native AES-GCM writes ciphertext then tag into the given buffer, leaving nothing else', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const pt = randomBytes(40);
    const out = new Uint8Array(pt.length + TAG_LENGTH + 8).fill(0xaa);
    _aesGcmImplementations.node.sealInto(key, nonce, new Uint8Array(0), pt, out.subarray(4, 4 + 56));
    expect([...out.subarray(0, 4)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa]);
    expect([...out.subarray(60)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa]);
    const ref = seal(_aesGcmImplementations.noble, key, nonce, new Uint8Array(0), pt);
    expect(Buffer.from(out.subarray(4, 60)).equals(Buffer.from(ref))).toBe(true);
  });

  it.each(['node', 'noble'] as const)(
    '%s AES-GCM refuses a wrong key, nonce, AAD, tag or a value shorter than a tag',
    (impl) => {
      const aead = _aesGcmImplementations[impl];
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const aad = randomBytes(5);
      const sealed = seal(aead, key, nonce, aad, randomBytes(20));
      expect(() => aead.open(randomBytes(32), nonce, aad, sealed)).toThrow();
      expect(() => aead.open(key, randomBytes(12), aad, sealed)).toThrow();
      expect(() => aead.open(key, nonce, randomBytes(5), sealed)).toThrow();
      const badTag = Uint8Array.from(sealed);
      badTag[badTag.length - 1]! ^= 0x80;
      expect(() => aead.open(key, nonce, aad, badTag)).toThrow();
      expect(() => aead.open(key, nonce, aad, sealed.subarray(0, 15))).toThrow();
      expect(() => aead.open(key, nonce, aad, new Uint8Array(0))).toThrow();
      // Exactly a tag: the empty plaintext.
      const empty = seal(aead, key, nonce, aad, new Uint8Array(0));
      expect(empty).toHaveLength(16);
      expect(aead.open(key, nonce, aad, empty)).toHaveLength(0);
    },
  );

  it('a native key object is per key: two keys never share one', () => {
    const aead = _aesGcmImplementations.node;
    const nonce = randomBytes(12);
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const pt = randomBytes(16);
    const c1 = seal(aead, k1, nonce, new Uint8Array(0), pt);
    const c2 = seal(aead, k2, nonce, new Uint8Array(0), pt);
    expect(Buffer.from(c1).equals(Buffer.from(c2))).toBe(false);
    expect(() => aead.open(k2, nonce, new Uint8Array(0), c1)).toThrow();
    expect(Buffer.from(aead.open(k1, nonce, new Uint8Array(0), c1)).equals(pt)).toBe(true);
  });

  it('XChaCha20-Poly1305 round-trips and refuses a flipped bit', () => {
    const aead = aeadFor('x');
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const pt = randomBytes(33);
    const sealed = seal(aead, key, nonce, new Uint8Array(0), pt);
    expect(Buffer.from(aead.open(key, nonce, new Uint8Array(0), sealed)).equals(pt)).toBe(true);
    sealed[0]! ^= 1;
    expect(() => aead.open(key, nonce, new Uint8Array(0), sealed)).toThrow();
  });
});
