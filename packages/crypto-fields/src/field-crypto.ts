import { isAscii } from 'node:buffer';
import {
  type Clock,
  type Logger,
  type RandomSource,
  isTenantryError,
  parseInput,
  resolveTenantId,
} from '@tenantry/core';
import { z } from 'zod';
import { type Aead, type AlgorithmName, Algorithms, TAG_LENGTH, aeadFor } from './aead.js';
import { type BlindIndexOptions, BlindIndexOptionsSchema, computeBlindIndex } from './blind-index.js';
import type { DataKeyStore } from './data-key-store.js';
import { CryptoFieldsError, decryptFailed } from './errors.js';
import {
  COMMITMENT_LENGTH,
  type FieldContext,
  type KeyHeader,
  type ParsedCiphertext,
  TYPE_JSON,
  TYPE_STRING,
  type ValueDescription,
  transientAad,
  commitmentMatches,
  describeValue,
  isCiphertext,
  parseCiphertext,
} from './format.js';
import type { KeyMaterial } from './key-material.js';
import type { KeyProvider } from './key-provider.js';
import { type FieldPath, forEachAtPath, mapPath, parseFieldPath } from './paths.js';
import { type FillableRandom, pooledRandom } from './random.js';
import { redactObject } from './redact.js';
import {
  type KeyCacheOptions,
  type Keyring,
  ServicePartsSchema,
  TenantKeys,
  keyringOf,
} from './tenant-keys.js';

/**
 * Whether a string is well-formed UTF-16 (no lone surrogate). A lone surrogate has no UTF-8 encoding:
 * it would be encoded as U+FFFD, so two different strings would bind the same context.
 * @internal
 */
export const isWellFormed = (s: string): boolean =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Longest collection, field or row id accepted in a context (characters). */
export const MAX_CONTEXT_PART = 1000;

const contextPart = () =>
  z
    .string()
    .min(1)
    .max(MAX_CONTEXT_PART)
    .refine(isWellFormed, 'must be well-formed Unicode (no lone surrogate)');

/** A field context as callers pass it: `tenantId` defaults to the current tenant context. */
export const FieldContextSchema = z.object({
  tenantId: z.string().min(1).optional(),
  collection: contextPart(),
  field: contextPart(),
  rowId: contextPart().optional(),
});
/** Longest value accepted by a blind index (characters). */
export const MAX_BLIND_INDEX_INPUT = 65_536;

/** The value of a blind index: a well-formed string of at most 65,536 characters. */
export const BlindIndexInputSchema = z
  .string()
  .max(MAX_BLIND_INDEX_INPUT)
  .refine(isWellFormed, 'must be well-formed Unicode (no lone surrogate)');

/** Input of {@link FieldContextSchema}. */
export type FieldContextInput = z.input<typeof FieldContextSchema>;

/** The context of a whole object: fields come from the declared paths. */
export const ObjectContextSchema = FieldContextSchema.omit({ field: true });
/** Input of {@link ObjectContextSchema}. */
export type ObjectContextInput = z.input<typeof ObjectContextSchema>;

/** Options of {@link createFieldCrypto}. */
export interface FieldCryptoOptions {
  /** Wraps the per-tenant data keys (e.g. {@link localKeyProvider}). */
  provider: KeyProvider;
  /** Where wrapped data keys live (memory, PostgreSQL, MongoDB). */
  store: DataKeyStore;
  /** Algorithm for new ciphertexts; both are always readable. @default 'xchacha20-poly1305' */
  algorithm?: AlgorithmName;
  /**
   * Migration from plaintext: read values that are not ciphertexts through as they are (they get
   * encrypted on the next write or by the rotation job). Off by default, because with it on, anyone
   * who can write to the database can plant a value that is read as genuine.
   * @default false
   */
  acceptPlaintext?: boolean;
  /** Bounds of the unwrapped data key cache, in tenants (see {@link KeyCacheOptions}). */
  cache?: KeyCacheOptions;
  /** @default systemClock */
  clock?: Clock;
  /** Randomness for nonces and new keys. @default the OS CSPRNG, read in 4 KiB blocks */
  random?: RandomSource;
  /** Receives key lifecycle events (never key bytes or plaintexts). @default noopLogger */
  logger?: Logger;
}

/** Result of {@link FieldCrypto.reseal}: the value sealed under the tenant's primary key, or null if it already was. */
export interface ResealResult {
  next: string | null;
  /** Key id the value was under, or `null` for legacy plaintext. */
  fromKeyId: string | null;
  toKeyId: string;
}

/** The serialisable part of {@link FieldCryptoOptions} (provider, store, clock, random, logger are objects). */
export const FieldCryptoOptionsSchema = z.object({
  algorithm: z.enum(['xchacha20-poly1305', 'aes-256-gcm']).optional(),
  acceptPlaintext: z.boolean().optional(),
  // Strict: the former `maxEntries` (counted keys, two per tenant) must not be silently ignored.
  cache: z
    .strictObject({
      maxTenants: z.number().int().positive().optional(),
      ttlMs: z.number().int().positive().optional(),
      sweepIntervalMs: z.number().int().min(10).optional(),
    })
    .optional(),
});

/**
 * Create the field encryption service: seal and open single values and objects by declared paths,
 * blind indexes, and (through `keys`) per-tenant data key rotation and crypto-shredding.
 * @throws ValidationError `VALIDATION_FAILED` on invalid options
 * @example
 * const fields = createFieldCrypto({ provider: localKeyProvider({ keys: { k1: KEK }, primary: 'k1' }), store: new MemoryDataKeyStore() });
 * const ct = await fields.seal('sk_live_123', { tenantId: 'acme', collection: 'settings', field: 'stripeKey' });
 * await fields.open(ct, { tenantId: 'acme', collection: 'settings', field: 'stripeKey' }); // 'sk_live_123'
 */
export function createFieldCrypto(options: FieldCryptoOptions): FieldCrypto {
  return new FieldCrypto(options);
}

/** See {@link createFieldCrypto}. */
export class FieldCrypto {
  /** The tenants' keyring: rotate, shred, retire, rewrap. */
  readonly keys: TenantKeys;
  readonly #keys: Keyring;
  readonly #aead: Aead;
  readonly #random: RandomSource;
  readonly #acceptPlaintext: boolean;
  /**
   * Header of the last value opened (text and parts, no key): the next value under the same key is
   * split without searching for its key id (see `parseCiphertext`). Only a parsing shortcut: the key
   * is still looked up for the context's tenant every time.
   */
  #lastHeader: KeyHeader | undefined;

  constructor(options: FieldCryptoOptions) {
    parseInput(ServicePartsSchema, options, 'field crypto options');
    const parsed = parseInput(
      FieldCryptoOptionsSchema,
      { algorithm: options.algorithm, acceptPlaintext: options.acceptPlaintext, cache: options.cache },
      'field crypto options',
    );
    this.#random = options.random ?? pooledRandom();
    this.#aead = aeadFor(Algorithms[parsed.algorithm ?? 'xchacha20-poly1305']);
    this.#acceptPlaintext = parsed.acceptPlaintext ?? false;
    this.keys = new TenantKeys({
      provider: options.provider,
      store: options.store,
      cache: parsed.cache,
      clock: options.clock,
      random: this.#random,
      logger: options.logger,
    });
    this.#keys = keyringOf(this.keys);
    redactObject(this, 'FieldCrypto');
  }

  /** Algorithm used for new ciphertexts. */
  get algorithm(): AlgorithmName {
    return this.#aead.name;
  }

  /**
   * Encrypt a string for one field. The context (tenant, collection, field, optional row id) is bound
   * as associated data: the ciphertext opens only with the same context.
   * @throws TenantryError `TENANT_CONTEXT_MISSING` without `tenantId` or a tenant context
   * @example const ct = await fields.seal('s3cret', { collection: 'settings', field: 'smtpPassword' });
   */
  async seal(plaintext: string, context: FieldContextInput): Promise<string> {
    if (typeof plaintext !== 'string') {
      throw new CryptoFieldsError(
        'CRYPTO_UNSEALABLE_VALUE',
        'seal() takes a string; use sealJson() for other values',
      );
    }
    const ctx = resolveContext(context);
    if (isCiphertext(plaintext)) return this.#keepSealed(plaintext, ctx);
    const m = this.#keys.cachedPrimary(ctx.tenantId) ?? (await this.#keys.primary(ctx.tenantId));
    return this.#sealWith(m, TYPE_STRING, plaintext, ctx);
  }

  /**
   * Decrypt a value sealed by {@link seal}.
   * @throws CryptoFieldsError `CRYPTO_DECRYPT_FAILED` (tampered, truncated, other context, other key), `CRYPTO_UNKNOWN_KEY_ID`, `CRYPTO_PLAINTEXT_REJECTED`
   */
  async open(value: string, context: FieldContextInput): Promise<string> {
    const ctx = resolveContext(context);
    if (typeof value !== 'string') parseInput(SealedValueSchema, value, 'sealed value');
    if (!isCiphertext(value)) return this.#plaintext(value) as string;
    const parsed = parseCiphertext(value, this.#lastHeader);
    const m =
      this.#keys.cachedKey(ctx.tenantId, parsed.keyId) ?? (await this.#keys.key(ctx.tenantId, parsed.keyId));
    // A JSON-typed value (sealJson) comes back as its JSON text.
    return this.#openWith(m, parsed, ctx).text;
  }

  /** Encrypt any JSON value (objects, numbers, booleans, strings) for one field. */
  async sealJson(value: unknown, context: FieldContextInput): Promise<string> {
    const ctx = resolveContext(context);
    if (isCiphertext(value)) return this.#keepSealed(value, ctx);
    const m = this.#keys.cachedPrimary(ctx.tenantId) ?? (await this.#keys.primary(ctx.tenantId));
    return this.#sealValue(m, value, ctx);
  }

  /** Decrypt a value sealed by {@link sealJson} (or {@link seal}: strings come back as strings). */
  async openJson(value: unknown, context: FieldContextInput): Promise<unknown> {
    const ctx = resolveContext(context);
    if (!isCiphertext(value)) return this.#plaintext(value);
    const parsed = parseCiphertext(value, this.#lastHeader);
    const m = await this.#keys.key(ctx.tenantId, parsed.keyId);
    return decodeTyped(this.#openWith(m, parsed, ctx));
  }

  /**
   * Return a copy of `doc` whose values at the declared paths are sealed (strings as strings, other
   * JSON values as JSON). Each value's field context is its declared path, e.g. `items[].secret`.
   * `null`/`undefined`/missing values are left alone. The input is not mutated.
   * @example await fields.sealObject(settings, ['smtp.password', 'webhooks[].secret'], { collection: 'settings', rowId: id });
   */
  async sealObject<T extends object>(
    doc: T,
    paths: ReadonlyArray<string | FieldPath>,
    context: ObjectContextInput,
  ): Promise<Record<string, unknown>> {
    const base = resolveContext(objectContext(context));
    const parsedPaths = toPaths(doc, paths);
    const m = this.#keys.cachedPrimary(base.tenantId) ?? (await this.#keys.primary(base.tenantId));
    // Values that already are ciphertexts (a loaded document saved again) are kept only when they
    // authenticate under this exact context: resolve their keys first.
    const materials = await this.#materialsAt(doc, parsedPaths, base.tenantId, true);
    let out: unknown = doc;
    for (const p of parsedPaths) {
      const ctx = { ...base, field: p.path };
      out = mapPath(out, p, (v) =>
        isCiphertext(v) ? this.#keepSealedWith(materials, v, ctx) : this.#sealValue(m, v, ctx),
      );
    }
    return out as Record<string, unknown>;
  }

  /**
   * Reverse of {@link sealObject}: a copy of `doc` with the declared paths decrypted.
   * @throws CryptoFieldsError `CRYPTO_DECRYPT_FAILED`, `CRYPTO_UNKNOWN_KEY_ID`, `CRYPTO_PLAINTEXT_REJECTED`
   */
  async openObject<T = Record<string, unknown>>(
    doc: object,
    paths: ReadonlyArray<string | FieldPath>,
    context: ObjectContextInput,
  ): Promise<T> {
    const base = resolveContext(objectContext(context));
    const parsedPaths = toPaths(doc, paths);
    // First pass: find the key ids, so every key is resolved (possibly async) before decrypting. It
    // keeps what it parsed, so each value's body is decoded once, not once per pass.
    const parsedByText = new Map<string, ParsedCiphertext>();
    const materials = await this.#materialsAt(doc, parsedPaths, base.tenantId, false, parsedByText);
    let out: unknown = doc;
    for (const p of parsedPaths) {
      const ctx = { ...base, field: p.path };
      // A path inside one opened before it (`a`, then `a.b`) holds values the first pass could not see
      // (they were inside `a`'s ciphertext): their keys are resolved now.
      if (out !== doc) {
        for (const [id, m] of await this.#materialsAt(
          out as object,
          [p],
          base.tenantId,
          false,
          parsedByText,
        )) {
          materials.set(id, m);
        }
      }
      out = mapPath(out, p, (v) => {
        if (!isCiphertext(v)) return this.#plaintext(v);
        // Stryker disable next-line LogicalOperator: parsing again gives the same result (speed only)
        const parsed = parsedByText.get(v) ?? parseCiphertext(v);
        return decodeTyped(this.#openWith(materials.get(parsed.keyId)!, parsed, ctx));
      });
    }
    return out as T;
  }

  /**
   * Re-encrypt a stored value under the tenant's primary key (used by rotation). Returns `next: null`
   * when the value is already under the primary key. Legacy plaintext is encrypted only with
   * `acceptPlaintext: true`; otherwise it is refused like in {@link open}.
   * @throws CryptoFieldsError `CRYPTO_PLAINTEXT_REJECTED`, `CRYPTO_DECRYPT_FAILED`, `CRYPTO_UNKNOWN_KEY_ID`, `CRYPTO_KEY_PROVIDER_FAILED`
   */
  async reseal(value: string, context: FieldContextInput): Promise<ResealResult> {
    const ctx = resolveContext(context);
    if (typeof value !== 'string') parseInput(SealedValueSchema, value, 'sealed value');
    // Plaintext is migrated only when the caller opted in (acceptPlaintext): otherwise a value an
    // attacker wrote into the column would come out of rotation as a genuine ciphertext.
    if (!isCiphertext(value)) this.#plaintext(value);
    const primary = this.#keys.cachedPrimary(ctx.tenantId) ?? (await this.#keys.primary(ctx.tenantId));
    if (!isCiphertext(value)) {
      return {
        next: this.#sealWith(primary, TYPE_STRING, value, ctx),
        fromKeyId: null,
        toKeyId: primary.keyId,
      };
    }
    const parsed = parseCiphertext(value);
    if (parsed.keyId === primary.keyId && parsed.code === this.#aead.code) {
      // Authenticate anyway: rotation must not bless a corrupted value.
      this.#openWith(primary, parsed, ctx);
      return { next: null, fromKeyId: parsed.keyId, toKeyId: primary.keyId };
    }
    const m = await this.#keys.key(ctx.tenantId, parsed.keyId);
    const opened = this.#openWith(m, parsed, ctx);
    return {
      next: this.#sealWith(primary, opened.type, opened.text, ctx),
      fromKeyId: parsed.keyId,
      toKeyId: primary.keyId,
    };
  }

  /**
   * Blind index of a value: HMAC-SHA256 of the normalised value under a key derived for this tenant,
   * collection and field, truncated; store it in a separate indexed column and look rows up by
   * `blindIndex(input)` without decrypting. Equal values (after normalising) give equal indexes.
   * @example const emailIdx = await fields.blindIndex(' Ann@Example.com', { collection: 'users', field: 'email' });
   */
  async blindIndex(
    value: string,
    context: Omit<FieldContextInput, 'rowId'>,
    options: BlindIndexOptions = {},
  ): Promise<string> {
    const ctx = resolveContext(context);
    if (typeof value !== 'string' || value.length > MAX_BLIND_INDEX_INPUT || !isWellFormed(value)) {
      parseInput(BlindIndexInputSchema, value, 'blind index input');
    }
    const opts = parseInput(BlindIndexOptionsSchema, options, 'blind index options');
    const k = await this.#keys.indexKey(ctx.tenantId);
    return computeBlindIndex(k.fieldKey(ctx.collection, ctx.field), value, opts);
  }

  /** Read a stored value's header (format, algorithm, key id) or recognise plaintext, without decrypting. */
  describe(value: string): ValueDescription {
    return describeValue(value);
  }

  /**
   * The keys of the ciphertexts at the declared paths (missing ones left out when `lenient`). Each
   * value parsed is recorded in `parsedByText` when given.
   */
  async #materialsAt(
    doc: object,
    paths: readonly FieldPath[],
    tenantId: string,
    lenient: boolean,
    parsedByText?: Map<string, ParsedCiphertext>,
  ): Promise<Map<string, KeyMaterial>> {
    const keyIds = new Set<string>();
    for (const p of paths) {
      forEachAtPath(doc, p, (v) => {
        if (!isCiphertext(v)) return;
        try {
          const parsed = parseCiphertext(v, this.#lastHeader);
          parsedByText?.set(v, parsed);
          keyIds.add(parsed.keyId);
        } catch (error) {
          if (!lenient) throw error;
        }
      });
    }
    const materials = new Map<string, KeyMaterial>();
    for (const id of keyIds) {
      try {
        materials.set(id, this.#keys.cachedKey(tenantId, id) ?? (await this.#keys.key(tenantId, id)));
      } catch (error) {
        if (!lenient || !isTenantryError(error, 'CRYPTO_UNKNOWN_KEY_ID')) throw error;
      }
    }
    return materials;
  }

  /**
   * The rule for a value that already is a ciphertext (e.g. a loaded document saved again without
   * opening it): it is kept as it is only when it authenticates under this exact context (tenant,
   * collection, field, row id) with one of this tenant's keys — exactly what sealing it would have
   * produced. Anything else (another context, another tenant, tampered, or a plaintext that merely
   * starts with `tcf1:`) is refused with `CRYPTO_ALREADY_SEALED`: wrapping it again would make
   * `open` return ciphertext text, and keeping it unchecked would let a planted value pass as ours.
   */
  async #keepSealed(value: string, ctx: FieldContext): Promise<string> {
    let parsed: ParsedCiphertext;
    try {
      parsed = parseCiphertext(value);
    } catch {
      throw alreadySealed(ctx);
    }
    let m: KeyMaterial | undefined;
    try {
      m =
        this.#keys.cachedKey(ctx.tenantId, parsed.keyId) ??
        (await this.#keys.key(ctx.tenantId, parsed.keyId));
    } catch (error) {
      if (isTenantryError(error, 'CRYPTO_UNKNOWN_KEY_ID')) throw alreadySealed(ctx);
      throw error;
    }
    return this.#keepSealedWith(new Map([[parsed.keyId, m]]), value, ctx);
  }

  #keepSealedWith(materials: ReadonlyMap<string, KeyMaterial>, value: string, ctx: FieldContext): string {
    try {
      const parsed = parseCiphertext(value);
      const m = materials.get(parsed.keyId);
      if (m === undefined) throw alreadySealed(ctx);
      this.#openWith(m, parsed, ctx);
      return value;
    } catch {
      throw alreadySealed(ctx);
    }
  }

  #plaintext(value: unknown): unknown {
    if (this.#acceptPlaintext) return value;
    throw new CryptoFieldsError(
      'CRYPTO_PLAINTEXT_REJECTED',
      'Expected a ciphertext but found a plaintext value',
    );
  }

  #sealValue(m: KeyMaterial, value: unknown, ctx: FieldContext): string {
    if (typeof value === 'string') return this.#sealWith(m, TYPE_STRING, value, ctx);
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
    if (text === undefined) {
      throw new CryptoFieldsError('CRYPTO_UNSEALABLE_VALUE', 'The value is not JSON-serialisable', {
        details: { field: ctx.field },
      });
    }
    return this.#sealWith(m, TYPE_JSON, text, ctx);
  }

  #sealWith(m: KeyMaterial, type: number, text: string, ctx: FieldContext): string {
    // A lone UTF-16 surrogate cannot be encoded as UTF-8 and would come back as U+FFFD: refuse it.
    if (!isWellFormed(text)) {
      throw new CryptoFieldsError(
        'CRYPTO_UNSEALABLE_VALUE',
        'The string is not well-formed UTF-16 (lone surrogate)',
        {
          details: { field: ctx.field },
        },
      );
    }
    const aead = this.#aead;
    const header = m.header(aead.code);
    const aad = transientAad(header.bytes, ctx);
    const ptLength = 1 + Buffer.byteLength(text, 'utf8');
    const nl = aead.nonceLength;
    const sealedAt = nl + COMMITMENT_LENGTH;
    const body = Buffer.allocUnsafe(sealedAt + ptLength + TAG_LENGTH);
    // The plaintext is written where its ciphertext goes and encrypted in place, so the cipher's output
    // overwrites it: no separate plaintext buffer to allocate and zero (two per-byte passes on large
    // values, found by profiling `seal` at 64 KiB).
    body[sealedAt] = type;
    body.write(text, sealedAt + 1, 'utf8');
    const fill = (this.#random as Partial<FillableRandom>).fillInto;
    if (fill) fill(body, 0, nl);
    else body.set(this.#random.bytes(nl), 0);
    // Views made directly: Node's Buffer#subarray is slower (a visible share of sealing a short value).
    const { buffer, byteOffset } = body;
    const nonce = new Uint8Array(buffer, byteOffset, nl);
    body.set(m.commitment, nl);
    const pt = new Uint8Array(buffer, byteOffset + sealedAt, ptLength);
    const sealed = new Uint8Array(buffer, byteOffset + sealedAt, ptLength + TAG_LENGTH);
    try {
      aead.sealInto(m.encryptionKey(), nonce, aad, pt, sealed);
    } catch (error) {
      // Never leave the plaintext behind in a buffer that is dropped (best effort, as before).
      pt.fill(0);
      throw error;
    }
    return header.text + body.toString('base64url');
  }

  #openWith(m: KeyMaterial, parsed: ParsedCiphertext, ctx: FieldContext): { type: number; text: string } {
    // The key commitment, compared in constant time before any decryption.
    if (!commitmentMatches(parsed, m.commitment)) throw decryptFailed();
    const header = m.header(parsed.code);
    const aad = transientAad(header.bytes, ctx);
    let pt: Uint8Array;
    try {
      pt = aeadFor(parsed.code).open(m.encryptionKey(), parsed.nonce, aad, parsed.sealed);
    } catch {
      throw decryptFailed();
    }
    const type = pt[0];
    if (type !== TYPE_STRING && type !== TYPE_JSON) throw decryptFailed();
    this.#lastHeader = header;
    // Node's AES-GCM already returns a Buffer: no second view of it.
    const buf = pt instanceof Buffer ? pt : Buffer.from(pt.buffer, pt.byteOffset, pt.length);
    // ASCII (most secrets, tokens, JSON) decodes identically as Latin-1, a plain copy: ~3x cheaper per
    // byte than UTF-8 decoding, found by profiling `open` on 64 KiB values. (The type byte is ASCII.)
    const text = buf.toString(isAscii(pt) ? 'latin1' : 'utf8', 1);
    pt.fill(0);
    return { type, text };
  }
}

function decodeTyped(out: { type: number; text: string }): unknown {
  return out.type === TYPE_STRING ? out.text : JSON.parse(out.text);
}

function toPath(p: string | FieldPath): FieldPath {
  return typeof p === 'string' ? parseFieldPath(p) : parseFieldPath((p as FieldPath)?.path);
}

const ObjectArgsSchema = z.object({
  doc: z.custom<object>((d) => typeof d === 'object' && d !== null, 'must be an object'),
  paths: z.array(z.union([z.string(), z.object({ path: z.string() })])).max(10_000),
});

/** Validate the document and declared paths of sealObject/openObject. */
function toPaths(doc: unknown, paths: ReadonlyArray<string | FieldPath>): FieldPath[] {
  if (typeof doc !== 'object' || doc === null || !Array.isArray(paths) || paths.length > 10_000) {
    parseInput(ObjectArgsSchema, { doc, paths }, 'object sealing arguments');
  }
  return paths.map(toPath);
}

/** An object context as a field context (the field comes from each path). */
function objectContext(context: ObjectContextInput): FieldContextInput {
  if (typeof context !== 'object' || context === null)
    parseInput(ObjectContextSchema, context, 'object context');
  return { ...context, field: '-' };
}

const alreadySealed = (ctx: FieldContext): CryptoFieldsError =>
  new CryptoFieldsError(
    'CRYPTO_ALREADY_SEALED',
    'The value is already a ciphertext, and not one of this tenant, collection, field and row; open it first',
    { details: { field: ctx.field } },
  );

/** A stored value handed to open(): a string. */
const SealedValueSchema = z.string();

/** A non-empty, bounded, well-formed context part (the fast path; zod reports the failure). */
const isPart = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= MAX_CONTEXT_PART && isWellFormed(v);

/**
 * Validate a context (fast path without zod) and resolve its tenant with core's `resolveTenantId`
 * (invariant T1: inside `runAsTenant(A)` only A; outside any context nothing; inside `runAsSystem`
 * any named tenant).
 */
function resolveContext(input: FieldContextInput): FieldContext {
  if (
    typeof input !== 'object' ||
    input === null ||
    !isPart(input.collection) ||
    !isPart(input.field) ||
    (input.rowId !== undefined && !isPart(input.rowId))
  ) {
    parseInput(FieldContextSchema, input, 'field context');
  }
  const tenantId = resolveTenantId(input.tenantId, 'field context');
  return { tenantId, collection: input.collection, field: input.field, rowId: input.rowId };
}
