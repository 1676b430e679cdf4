import { type KeyObject, createCipheriv, createDecipheriv, createSecretKey, getCiphers } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';

/** Algorithms a ciphertext can name. The one-letter code is what the format stores. */
export const Algorithms = {
  /** XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha), 192-bit random nonce. The default. */
  'xchacha20-poly1305': 'x',
  /** AES-256-GCM, 96-bit random nonce: at most 2^32 messages per key (NIST SP 800-38D §8.3). */
  'aes-256-gcm': 'g',
} as const;

/** Name of an algorithm this package seals with. */
export type AlgorithmName = keyof typeof Algorithms;
/** One-letter code of an algorithm in the ciphertext header. */
export type AlgorithmCode = (typeof Algorithms)[AlgorithmName];

/** Tag length of both AEADs, in bytes. */
export const TAG_LENGTH = 16;

/** An AEAD with random nonces, writing ciphertext‖tag into a caller-provided buffer. */
export interface Aead {
  readonly code: AlgorithmCode;
  readonly name: AlgorithmName;
  readonly nonceLength: number;
  /** Encrypt `plaintext` into `out` (length plaintext + 16). */
  sealInto(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void;
  /** Decrypt ciphertext‖tag; throws (any error) when authentication fails. */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array;
}

const xchacha: Aead = {
  code: 'x',
  name: 'xchacha20-poly1305',
  nonceLength: 24,
  sealInto: (key, nonce, aad, plaintext, out) => {
    xchacha20poly1305(key, nonce, aad).encrypt(plaintext, out);
  },
  open: (key, nonce, aad, sealed) => xchacha20poly1305(key, nonce, aad).decrypt(sealed),
};

/**
 * Node KeyObjects for AES keys, per key array: `createCipheriv` with a raw key copies and checks it on
 * every call, a fixed cost that was a visible share of sealing a short value. Weak, so a key's object
 * goes with its cached key material. (OpenSSL keeps its own copy of the key either way.)
 */
const keyObjects = new WeakMap<Uint8Array, KeyObject>();
const keyObjectOf = (key: Uint8Array): KeyObject => {
  let k = keyObjects.get(key);
  // Stryker disable next-line ConditionalExpression: a cache of KeyObjects (speed only): a fresh one is the same key
  if (k === undefined) {
    k = createSecretKey(key);
    // Stryker disable next-line all: a cache of KeyObjects (speed only): a fresh one is the same key
    keyObjects.set(key, k);
  }
  return k;
};

/**
 * Options of every native GCM cipher, allocated once (an object literal per call was a measurable
 * share of a short `open`). Frozen: Node keeps a reference to it on the cipher object.
 */
// Stryker disable next-line ObjectLiteral: 16 bytes is GCM's default tag length
const GCM_OPTIONS = Object.freeze({ authTagLength: TAG_LENGTH });

/** AES-256-GCM through Node's OpenSSL (AES-NI, constant time). */
const nodeGcm: Aead = {
  code: 'g',
  name: 'aes-256-gcm',
  nonceLength: 12,
  sealInto: (key, nonce, aad, plaintext, out) => {
    const c = createCipheriv('aes-256-gcm', keyObjectOf(key), nonce, GCM_OPTIONS);
    c.setAAD(aad);
    const a = c.update(plaintext);
    const b = c.final();
    out.set(a, 0);
    // Stryker disable next-line all: GCM's final() returns no bytes
    out.set(b, a.length);
    // Stryker disable next-line ArithmeticOperator: GCM's final() returns no bytes
    out.set(c.getAuthTag(), a.length + b.length);
  },
  open: (key, nonce, aad, sealed) => {
    // Stryker disable next-line all: a shorter value also fails setAuthTag (authTagLength 16): any error is a failed open
    if (sealed.length < TAG_LENGTH) throw new Error('short');
    const d = createDecipheriv('aes-256-gcm', keyObjectOf(key), nonce, GCM_OPTIONS);
    d.setAAD(aad);
    // Views made directly: TypedArray#subarray costs more (a visible share of a short `open`).
    const { buffer, byteOffset } = sealed;
    const ctLength = sealed.length - TAG_LENGTH;
    d.setAuthTag(new Uint8Array(buffer, byteOffset + ctLength, TAG_LENGTH));
    const a = d.update(new Uint8Array(buffer, byteOffset, ctLength));
    const b = d.final();
    // Stryker disable next-line all: GCM's final() returns no bytes
    if (b.length === 0) return a;
    // Stryker disable next-line all: unreachable, GCM's final() returns no bytes
    const out = new Uint8Array(a.length + b.length);
    // Stryker disable next-line all: unreachable, GCM's final() returns no bytes
    out.set(a, 0);
    // Stryker disable next-line all: GCM's final() returns no bytes
    out.set(b, a.length);
    return out;
  },
};

/** AES-256-GCM from @noble/ciphers: table-based AES, not constant time; used only without native GCM. */
const nobleGcm: Aead = {
  code: 'g',
  name: 'aes-256-gcm',
  nonceLength: 12,
  sealInto: (key, nonce, aad, plaintext, out) => {
    out.set(gcm(key, nonce, aad).encrypt(plaintext));
  },
  open: (key, nonce, aad, sealed) => gcm(key, nonce, aad).decrypt(sealed),
};

let nativeGcm: boolean | undefined;
/** Whether the runtime offers native AES-256-GCM through `node:crypto`. */
export function hasNativeAesGcm(): boolean {
  // Stryker disable next-line ConditionalExpression: asking again gives the same answer
  if (nativeGcm === undefined) {
    try {
      nativeGcm = getCiphers().includes('aes-256-gcm');
      // Stryker disable next-line BlockStatement: getCiphers() does not throw on supported Node
    } catch {
      // Stryker disable next-line BooleanLiteral: getCiphers() does not throw on supported Node
      nativeGcm = false;
    }
  }
  return nativeGcm;
}

/** The implementation for an algorithm code (native AES-GCM where available, noble otherwise). */
export function aeadFor(code: AlgorithmCode, options: { forceNoble?: boolean } = {}): Aead {
  if (code === 'x') return xchacha;
  return hasNativeAesGcm() && !options.forceNoble ? nodeGcm : nobleGcm;
}

/** @internal for tests: both AES-GCM implementations. */
export const _aesGcmImplementations = { node: nodeGcm, noble: nobleGcm } as const;
