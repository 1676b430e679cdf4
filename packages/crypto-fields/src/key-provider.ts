import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { type RandomSource, TenantIdSchema, cryptoRandom, parseInput } from '@tenantry/core';
import { z } from 'zod';
import { CryptoFieldsError } from './errors.js';
import { decodeBase64UrlStrict, encodeParts, KEY_ID_PATTERN } from './format.js';
import { redactObject } from './redact.js';

/** What a data key is for: sealing values, or computing blind indexes. */
export type DataKeyPurpose = 'encrypt' | 'index';

/** Bound into every wrapped data key, so a wrapped key cannot be moved to another tenant or id. */
export interface WrapContext {
  tenantId: string;
  keyId: string;
  purpose: DataKeyPurpose;
}

/** A data key wrapped (encrypted) by a key-encryption key. */
export interface WrappedKey {
  /** Id of the key-encryption key that wrapped it. */
  kekId: string;
  /** Provider-specific text form of the wrapped key. */
  wrappedKey: string;
}

/**
 * Wraps and unwraps per-tenant data keys with a key-encryption key (KEK) it holds. The local provider
 * keeps KEKs from configuration; a KMS-style provider (AWS KMS, GCP KMS, Vault transit) implements the
 * same two calls with the KMS's encrypt/decrypt and the context as encryption context.
 * @example const provider = localKeyProvider({ keys: { kek1: process.env.KEK1! }, primary: 'kek1' });
 */
export interface KeyProvider {
  /** Short name for diagnostics. */
  readonly name: string;
  /** Wrap a data key with the current primary KEK. */
  wrap(dataKey: Uint8Array, context: WrapContext): Promise<WrappedKey>;
  /**
   * Unwrap a data key; must fail when the wrapped key or its context was altered.
   * @throws CryptoFieldsError `CRYPTO_KEY_PROVIDER_FAILED`
   */
  unwrap(wrapped: WrappedKey, context: WrapContext): Promise<Uint8Array>;
  /** Id of the current primary KEK (keys wrapped by older KEKs can be rewrapped). */
  readonly primaryKekId: string;
}

/** Options of {@link localKeyProvider}. */
export const LocalKeyProviderOptionsSchema = z.object({
  /** KEKs by id: 32 bytes each, base64 or base64url (e.g. `openssl rand -base64 32`). */
  keys: z
    .record(z.string().regex(KEY_ID_PATTERN), z.string().min(1))
    .refine((k) => Object.keys(k).length > 0, 'at least one key is required'),
  /** Id of the KEK that wraps new data keys; the others only unwrap. */
  primary: z.string().regex(KEY_ID_PATTERN),
});
/** Input of {@link localKeyProvider}. */
export type LocalKeyProviderOptions = z.input<typeof LocalKeyProviderOptionsSchema> & {
  /** Randomness for wrap nonces. @default cryptoRandom */
  random?: RandomSource;
};

const WRAP_LABEL = 'tenantry/crypto-fields/v1/wrap';

const WrapContextSchema = z.object({
  tenantId: TenantIdSchema,
  keyId: z.string().regex(KEY_ID_PATTERN),
  purpose: z.enum(['encrypt', 'index']),
});
const WrapArgsSchema = z.object({
  dataKey: z.custom<Uint8Array>((k) => k instanceof Uint8Array && k.length === 32, 'must be 32 bytes'),
  context: WrapContextSchema,
});
const UnwrapArgsSchema = z.object({
  wrapped: z.object({ kekId: z.string().max(64), wrappedKey: z.string().max(16_384) }),
  context: WrapContextSchema,
});

function decodeKek(text: string): Uint8Array | undefined {
  const normalised = text.trim().replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const bytes = decodeBase64UrlStrict(normalised);
  return bytes?.length === 32 ? Uint8Array.from(bytes) : undefined;
}

/**
 * A key provider whose KEKs come from configuration (environment, secret manager). Data keys are
 * wrapped with XChaCha20-Poly1305 under the primary KEK, with tenant, key id and purpose as associated
 * data; older KEKs still unwrap, so KEK rotation is: add a new key, make it primary, then
 * `keys.rewrapAll()`.
 * @throws ValidationError `VALIDATION_FAILED` when a key is not 32 bytes or the primary is missing
 * @example const provider = localKeyProvider({ keys: { '2026a': process.env.KEK_2026A! }, primary: '2026a' });
 */
export function localKeyProvider(options: LocalKeyProviderOptions): KeyProvider {
  if (typeof options !== 'object' || options === null) {
    parseInput(LocalKeyProviderOptionsSchema, options, 'local key provider options');
  }
  const random = options.random ?? cryptoRandom;
  const parsed = parseInput(
    LocalKeyProviderOptionsSchema.superRefine((o, ctx) => {
      if (!(o.primary in o.keys))
        ctx.addIssue({ code: 'custom', path: ['primary'], message: 'not among keys' });
      for (const [id, v] of Object.entries(o.keys)) {
        if (decodeKek(v) === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['keys', id],
            message: 'must be 32 bytes in base64/base64url',
          });
        }
      }
    }),
    { keys: options.keys, primary: options.primary },
    'local key provider options',
  );
  const keks = new Map(Object.entries(parsed.keys).map(([id, v]) => [id, decodeKek(v)!]));
  const primary = parsed.primary;
  const aad = (c: WrapContext) => encodeParts(WRAP_LABEL, c.tenantId, c.keyId, c.purpose);
  const provider: KeyProvider = {
    name: 'local',
    primaryKekId: primary,
    async wrap(dataKey, context) {
      parseInput(WrapArgsSchema, { dataKey, context }, 'data key to wrap');
      const nonce = random.bytes(24);
      const sealed = xchacha20poly1305(keks.get(primary)!, nonce, aad(context)).encrypt(dataKey);
      const out = new Uint8Array(24 + sealed.length);
      out.set(nonce, 0);
      out.set(sealed, 24);
      return { kekId: primary, wrappedKey: Buffer.from(out).toString('base64url') };
    },
    async unwrap(wrapped, context) {
      parseInput(UnwrapArgsSchema, { wrapped, context }, 'wrapped data key');
      const kek = keks.get(wrapped.kekId);
      const bytes = decodeBase64UrlStrict(wrapped.wrappedKey);
      if (kek === undefined || bytes === undefined || bytes.length < 24 + 16) {
        throw unwrapFailed(context, wrapped.kekId);
      }
      try {
        return xchacha20poly1305(kek, bytes.subarray(0, 24), aad(context)).decrypt(bytes.subarray(24));
      } catch {
        throw unwrapFailed(context, wrapped.kekId);
      }
    },
  };
  redactObject(provider, 'LocalKeyProvider');
  return provider;
}

function unwrapFailed(context: WrapContext, kekId: string): CryptoFieldsError {
  return new CryptoFieldsError('CRYPTO_KEY_PROVIDER_FAILED', 'The data key could not be unwrapped', {
    details: { tenantId: context.tenantId, keyId: context.keyId, kekId },
  });
}
