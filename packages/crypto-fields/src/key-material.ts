import { inspect } from 'node:util';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { AlgorithmCode } from './aead.js';
import { type KeyHeader, encodeParts, headerText } from './format.js';

const utf8 = new TextEncoder();
const ENC_INFO = utf8.encode('tenantry/crypto-fields/v1/encryption-key');
const COMMIT_INFO = utf8.encode('tenantry/crypto-fields/v1/key-commitment');

/**
 * Keys derived once from an unwrapped data key and cached, so the per-value hot path runs no KDF:
 *
 * - `encryptionKey = HKDF-SHA256(dataKey, info = "…/encryption-key")` feeds the AEAD;
 * - `commitment = HKDF-SHA256(dataKey, info = "…/key-commitment")` (32 bytes) is stored in every
 *   ciphertext and compared, in constant time, before decrypting.
 *
 * A ciphertext opens under data key K only if its stored commitment equals K's commitment, so opening
 * one ciphertext under two keys K ≠ K' would need HKDF(K) = HKDF(K') on 256 bits: a SHA-256 collision
 * (~2^128 work). That makes the format key-committing (CMT-1) at no per-message cost. The commitment
 * is a PRF output: it reveals nothing about the key beyond what the key id already says (which values
 * share a key).
 * @internal
 */
export class KeyMaterial {
  readonly #encryptionKey: Uint8Array;
  readonly commitment: Uint8Array;
  readonly #headers = new Map<AlgorithmCode, KeyHeader>();
  constructor(
    readonly tenantId: string,
    readonly keyId: string,
    dataKey: Uint8Array,
    /** Whether the store said this key was the tenant's primary when it was loaded. */
    readonly primary = false,
  ) {
    this.#encryptionKey = hkdf(sha256, dataKey, undefined, ENC_INFO, 32);
    this.commitment = hkdf(sha256, dataKey, undefined, COMMIT_INFO, 32);
  }
  /** The AEAD key. Never log it. */
  encryptionKey(): Uint8Array {
    return this.#encryptionKey;
  }
  /** Header text and bytes for an algorithm, computed once. */
  header(code: AlgorithmCode): KeyHeader {
    let h = this.#headers.get(code);
    if (h === undefined) {
      const text = headerText(code, this.keyId);
      h = Object.freeze({ text, bytes: utf8.encode(text), code, keyId: this.keyId });
      this.#headers.set(code, h);
    }
    return h;
  }
  /** Zero the derived key (best effort). */
  destroy(): void {
    this.#encryptionKey.fill(0);
  }
  toJSON(): { keyId: string } {
    return { keyId: this.keyId };
  }
  [inspect.custom](): string {
    return `KeyMaterial { keyId: ${this.keyId}, key: [redacted] }`;
  }
}

const INDEX_INFO = 'tenantry/crypto-fields/v1/blind-index';
/** Most per-field blind-index keys cached for one tenant. @internal */
export const MAX_FIELD_KEYS = 32;

/**
 * A tenant's blind-index root key; per-field keys are `HKDF-SHA256(root, info = lp(label) ‖ lp(collection) ‖ lp(field))`,
 * derived once per field and cached.
 * @internal
 */
export class IndexKeyMaterial {
  readonly #root: Uint8Array;
  readonly #fieldKeys = new Map<string, Uint8Array>();
  constructor(
    readonly tenantId: string,
    readonly keyId: string,
    dataKey: Uint8Array,
  ) {
    this.#root = Uint8Array.from(dataKey);
  }
  /** The HMAC key of one field. Never log it. */
  fieldKey(collection: string, field: string): Uint8Array {
    // Length-prefixed: `a\0b` + `c` and `a` + `b\0c` must not share a slot (the derivation itself is
    // unambiguous; the cache must be too).
    const id = `${collection.length}:${collection}\u0000${field}`;
    let k = this.#fieldKeys.get(id);
    if (k === undefined) {
      k = hkdf(sha256, this.#root, undefined, encodeParts(INDEX_INFO, collection, field), 32);
      this.#fieldKeys.set(id, k);
      // Bounded per tenant (thousands of tenants are cached): the least recently derived goes first.
      if (this.#fieldKeys.size > MAX_FIELD_KEYS) this.#fieldKeys.delete(this.#fieldKeys.keys().next().value!);
    }
    return k;
  }
  /** How many per-field keys are cached (at most {@link MAX_FIELD_KEYS}). */
  get fieldKeyCount(): number {
    return this.#fieldKeys.size;
  }
  destroy(): void {
    this.#root.fill(0);
    for (const k of this.#fieldKeys.values()) k.fill(0);
    this.#fieldKeys.clear();
  }
  toJSON(): { keyId: string } {
    return { keyId: this.keyId };
  }
  [inspect.custom](): string {
    return `IndexKeyMaterial { keyId: ${this.keyId}, key: [redacted] }`;
  }
}
