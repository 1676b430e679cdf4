import {
  type Clock,
  type Logger,
  type RandomSource,
  TelemetryAttributes,
  cryptoRandom,
  noopLogger,
  parseInput,
  requireSystemScope,
  resolveTenantId,
  systemClock,
  withSpan,
} from '@tenantry/core';
import { z } from 'zod';
import type { DataKeyRecord, DataKeyStore } from './data-key-store.js';
import { CryptoFieldsError } from './errors.js';
import { KeyCache } from './key-cache.js';
import { IndexKeyMaterial, KeyMaterial } from './key-material.js';
import type { DataKeyPurpose, KeyProvider } from './key-provider.js';
import { redactObject } from './redact.js';
import { KEY_ID_PATTERN } from './format.js';

/** Cache bounds for unwrapped data keys. */
export interface KeyCacheOptions {
  /** Most unwrapped keys held at once (LRU eviction). @default 1000 */
  maxEntries?: number;
  /** How long an unwrapped key (and a tenant's primary key id) is trusted before re-reading the store. @default 300000 (5 min) */
  ttlMs?: number;
}

/** Options of {@link TenantKeys}. */
export interface TenantKeysOptions {
  provider: KeyProvider;
  store: DataKeyStore;
  cache?: KeyCacheOptions;
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
}

type Material = KeyMaterial | IndexKeyMaterial;

const newKeyId = (random: RandomSource): string => `dk${Buffer.from(random.bytes(9)).toString('base64url')}`;

const hasMethods =
  (...names: string[]) =>
  (v: unknown): boolean =>
    typeof v === 'object' &&
    v !== null &&
    names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function');

/** The object parts of {@link TenantKeysOptions} and `FieldCryptoOptions`, checked by shape (they are ports). @internal */
export const ServicePartsSchema = z.object({
  provider: z.custom<KeyProvider>(hasMethods('wrap', 'unwrap'), 'must be a KeyProvider'),
  store: z.custom<DataKeyStore>(
    hasMethods('createPrimaryIfAbsent', 'promote', 'get', 'getPrimary', 'list', 'deleteTenant'),
    'must be a DataKeyStore',
  ),
  random: z.custom<RandomSource>(hasMethods('bytes'), 'must be a RandomSource').optional(),
});

/** The serialisable part of {@link TenantKeysOptions}. @internal */
const TenantKeysCacheSchema = z
  .object({
    maxEntries: z.number().int().positive().optional(),
    ttlMs: z.number().int().positive().optional(),
  })
  .optional();

const PurposeSchema = z.enum(['encrypt', 'index']);
const KeyIdSchema = z.string().regex(KEY_ID_PATTERN);
const TENANT = TelemetryAttributes.TENANT_ID;

/**
 * The key operations of a keyring for a tenant that was already resolved by the caller (the service's
 * hot path). Not exported from the package: every public entry resolves the tenant first.
 * @internal
 */
export interface Keyring {
  cachedPrimary(tenantId: string): KeyMaterial | undefined;
  cachedKey(tenantId: string, keyId: string): KeyMaterial | undefined;
  primary(tenantId: string): Promise<KeyMaterial>;
  key(tenantId: string, keyId: string): Promise<KeyMaterial>;
  indexKey(tenantId: string): Promise<IndexKeyMaterial>;
}

let keyringAccess: (keys: TenantKeys) => Keyring;

/** The internal keyring of a {@link TenantKeys} (for the service in this package only). @internal */
export const keyringOf = (keys: TenantKeys): Keyring => keyringAccess(keys);

/**
 * The keyring of every tenant: one primary data key per tenant (encrypts) and older keys (decrypt
 * only), each wrapped by the provider's KEK and kept in a {@link DataKeyStore}. Unwrapped keys are
 * cached (LRU + TTL); concurrent misses for one key share a single unwrap.
 *
 * Every method that takes a tenant resolves it with core's `resolveTenantId` (invariant T1): inside
 * `runAsTenant(A)` only A (the argument may be omitted); outside any context nothing
 * (`TENANT_CONTEXT_MISSING`, also when a tenant is named); inside `runAsSystem` any named tenant.
 * @example await runAsTenant({ tenantId: 'acme', actor }, () => fields.keys.rotate());
 */
export class TenantKeys {
  static {
    keyringAccess = (keys) => keys.#keyring;
  }
  readonly #keyring: Keyring = {
    cachedPrimary: (t) => this.#cache.get(`p\u0000encrypt\u0000${t}\u0000`) as KeyMaterial | undefined,
    cachedKey: (t, k) => this.#cache.get(`k\u0000${t}\u0000${k}`) as KeyMaterial | undefined,
    primary: (t) => this.#primary(t),
    key: (t, k) => this.#key(t, k),
    indexKey: (t) => this.#indexKey(t),
  };
  readonly #provider: KeyProvider;
  readonly #store: DataKeyStore;
  readonly #cache: KeyCache<Material>;
  readonly #inflight = new Map<string, Promise<Material>>();
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #logger: Logger;

  constructor(options: TenantKeysOptions) {
    parseInput(ServicePartsSchema, options, 'tenant keys options');
    parseInput(TenantKeysCacheSchema, options.cache, 'tenant keys cache options');
    this.#provider = options.provider;
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? cryptoRandom;
    this.#logger = options.logger ?? noopLogger;
    this.#cache = new KeyCache(
      options.cache?.maxEntries ?? 1000,
      options.cache?.ttlMs ?? 300_000,
      this.#clock,
    );
    redactObject(this, 'TenantKeys');
  }

  /** The data key store (for rotation jobs and admin tasks). */
  get store(): DataKeyStore {
    return this.#store;
  }

  async #primary(tenantId: string): Promise<KeyMaterial> {
    return (this.#keyring.cachedPrimary(tenantId) ??
      (await this.#loadPrimary(tenantId, 'encrypt'))) as KeyMaterial;
  }

  async #indexKey(tenantId: string): Promise<IndexKeyMaterial> {
    const cached = this.#cache.get(`p\u0000index\u0000${tenantId}\u0000`);
    return (cached ?? (await this.#loadPrimary(tenantId, 'index'))) as IndexKeyMaterial;
  }

  async #key(tenantId: string, keyId: string): Promise<KeyMaterial> {
    const cached = this.#keyring.cachedKey(tenantId, keyId);
    if (cached) return cached;
    const m = await this.#dedupe(`k\u0000${tenantId}\u0000${keyId}`, async () => {
      const rec = await this.#store.get(tenantId, keyId);
      if (rec === null || rec.purpose !== 'encrypt') {
        throw new CryptoFieldsError(
          'CRYPTO_UNKNOWN_KEY_ID',
          'The value names a key this tenant does not have',
          {
            details: { tenantId, keyId },
          },
        );
      }
      return this.#unwrap(rec);
    });
    return m as KeyMaterial;
  }

  /**
   * Make a fresh data key the tenant's primary (older keys keep decrypting). Run a rotation job
   * afterwards to move existing values to it. Other processes pick it up within the cache TTL.
   * @param tenantId the tenant (omit it inside `runAsTenant`); see the class for the T1 rule
   * @returns the new key id
   * @throws TenantryError `TENANT_CONTEXT_MISSING` | `TENANT_CONTEXT_CONFLICT`; ValidationError `VALIDATION_FAILED`
   */
  async rotate(tenantId?: string, purpose: DataKeyPurpose = 'encrypt'): Promise<string> {
    const tenant = resolveTenantId(tenantId, 'data keys');
    parseInput(PurposeSchema, purpose, 'data key purpose');
    return withSpan(
      'crypto-fields',
      'rotate_key',
      { [TENANT]: tenant, 'crypto.purpose': purpose },
      async () => {
        const tenantId = tenant;
        const rec = await this.#newRecord(tenantId, purpose);
        await this.#store.promote(rec);
        this.#cache.deletePrefix(`p\u0000${purpose}\u0000${tenantId}\u0000`);
        this.#logger.info({ tenantId, keyId: rec.keyId, purpose }, 'crypto-fields: data key rotated');
        return rec.keyId;
      },
    );
  }

  /**
   * Crypto-shredding: delete every data key of the tenant, so none of its values can ever be
   * decrypted again (nor its blind indexes recomputed). Other processes stop decrypting within the
   * cache TTL; call {@link forget} there to stop at once.
   * @returns how many keys were deleted
   * @throws TenantryError `TENANT_CONTEXT_MISSING` | `TENANT_CONTEXT_CONFLICT`; ValidationError `VALIDATION_FAILED`
   */
  async shred(tenantId?: string): Promise<number> {
    const tenant = resolveTenantId(tenantId, 'data keys');
    return withSpan('crypto-fields', 'shred', { [TENANT]: tenant }, async () => {
      const tenantId = tenant;
      const n = await this.#store.deleteTenant(tenantId);
      this.#forget(tenantId);
      this.#logger.warn({ tenantId, deletedKeys: n }, 'crypto-fields: tenant data keys destroyed');
      return n;
    });
  }

  /**
   * Delete one retired (non-primary) key after rotation moved every value off it.
   * @param tenantId the tenant (`undefined` inside `runAsTenant` for the current one)
   * @returns whether a key was deleted (false when absent or still primary)
   */
  async retire(tenantId: string | undefined, keyId: string): Promise<boolean> {
    const tenant = resolveTenantId(tenantId, 'data keys');
    parseInput(KeyIdSchema, keyId, 'key id');
    const ok = await this.#store.deleteKey(tenant, keyId);
    this.#cache.deletePrefix(`k\u0000${tenant}\u0000${keyId}`);
    return ok;
  }

  /**
   * Drop a tenant's keys from this process's cache (e.g. in other processes after a shred).
   * @param tenantId the tenant (omit it inside `runAsTenant`)
   */
  forget(tenantId?: string): void {
    this.#forget(resolveTenantId(tenantId, 'data key cache'));
  }

  #forget(tenantId: string): void {
    this.#cache.deletePrefix(`p\u0000encrypt\u0000${tenantId}\u0000`);
    this.#cache.deletePrefix(`p\u0000index\u0000${tenantId}\u0000`);
    this.#cache.deletePrefix(`k\u0000${tenantId}\u0000`);
  }

  /**
   * KEK rotation: rewrap every data key not wrapped by the provider's primary KEK (data keys and
   * ciphertexts stay unchanged). Conditional per key, so concurrent runs are safe.
   * Platform-wide work: runs only inside `runAsSystem`.
   * @returns how many keys were rewrapped
   * @throws TenantryError `SYSTEM_SCOPE_REQUIRED` outside `runAsSystem`
   */
  async rewrapAll(): Promise<number> {
    requireSystemScope('data key wrapping (KEK rotation)');
    let n = 0;
    const primaryKek = this.#provider.primaryKekId;
    for (const tenantId of await this.#store.tenantsNotWrappedBy(primaryKek)) {
      for (const rec of await this.#store.list(tenantId)) {
        if (rec.kekId === primaryKek) continue;
        const ctx = { tenantId, keyId: rec.keyId, purpose: rec.purpose };
        const raw = await this.#provider.unwrap(rec, ctx);
        const wrapped = await this.#provider.wrap(raw, ctx);
        raw.fill(0);
        if (await this.#store.rewrap(tenantId, rec.keyId, rec.kekId, wrapped)) n++;
      }
    }
    return n;
  }

  async #loadPrimary(tenantId: string, purpose: DataKeyPurpose): Promise<Material> {
    const cacheKey = `p\u0000${purpose}\u0000${tenantId}\u0000`;
    return this.#dedupe(cacheKey, async () => {
      let rec = await this.#store.getPrimary(tenantId, purpose);
      if (rec === null) {
        rec = await this.#store.createPrimaryIfAbsent(await this.#newRecord(tenantId, purpose));
      }
      const cachedById = purpose === 'encrypt' ? this.#keyring.cachedKey(tenantId, rec.keyId) : undefined;
      return cachedById ?? this.#unwrap(rec);
    });
  }

  async #newRecord(tenantId: string, purpose: DataKeyPurpose): Promise<DataKeyRecord> {
    const keyId = newKeyId(this.#random);
    const raw = this.#random.bytes(32);
    try {
      const wrapped = await this.#provider.wrap(raw, { tenantId, keyId, purpose });
      return { tenantId, keyId, purpose, ...wrapped, primary: true, createdAt: this.#clock.now() };
    } finally {
      raw.fill(0);
    }
  }

  async #unwrap(rec: DataKeyRecord): Promise<Material> {
    const raw = await this.#provider.unwrap(rec, {
      tenantId: rec.tenantId,
      keyId: rec.keyId,
      purpose: rec.purpose,
    });
    if (raw.length !== 32) {
      throw new CryptoFieldsError(
        'CRYPTO_KEY_PROVIDER_FAILED',
        'The unwrapped data key has the wrong length',
        {
          details: { tenantId: rec.tenantId, keyId: rec.keyId },
        },
      );
    }
    try {
      return rec.purpose === 'encrypt'
        ? new KeyMaterial(rec.tenantId, rec.keyId, raw)
        : new IndexKeyMaterial(rec.tenantId, rec.keyId, raw);
    } finally {
      raw.fill(0);
    }
  }

  async #dedupe(cacheKey: string, load: () => Promise<Material>): Promise<Material> {
    const pending = this.#inflight.get(cacheKey);
    if (pending) return pending;
    const [kind, a, b] = cacheKey.split('\u0000');
    const attributes =
      kind === 'k'
        ? { [TENANT]: a ?? '', 'crypto.key_id': b ?? '' }
        : { [TENANT]: b ?? '', 'crypto.purpose': a ?? '' };
    const p = withSpan('crypto-fields', 'load_key', attributes, load)
      .then((m) => {
        this.#cache.set(cacheKey, m);
        if (m instanceof KeyMaterial) this.#cache.set(`k\u0000${m.tenantId}\u0000${m.keyId}`, m);
        return m;
      })
      .finally(() => this.#inflight.delete(cacheKey));
    this.#inflight.set(cacheKey, p);
    return p;
  }
}
