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
import { TenantKeyCache } from './key-cache.js';
import { type KeyCacheCounts, KeyMetrics } from './key-metrics.js';
import { IndexKeyMaterial, KeyMaterial } from './key-material.js';
import type { DataKeyPurpose, KeyProvider } from './key-provider.js';
import { redactObject } from './redact.js';
import { KEY_ID_PATTERN } from './format.js';

/** Default of {@link KeyCacheOptions.maxTenants}: about 16 MB of heap (≈ 1.6 KB per tenant, measured by bench/many-tenants.ts). */
export const DEFAULT_CACHE_MAX_TENANTS = 10_000;
/** Default of {@link KeyCacheOptions.ttlMs}: 5 minutes. */
export const DEFAULT_CACHE_TTL_MS = 300_000;

/**
 * Bounds of the unwrapped data key cache, counted in **tenants**: one cached tenant holds its primary
 * data key, its blind-index key and up to 16 older keys by id, ≈ 1.6 KB (measured heap) for a tenant that only seals and
 * opens (more while a rotation reads old keys, ≈ 0.2 KB per blind-indexed field).
 * @example createFieldCrypto({ provider, store, cache: { maxTenants: 50_000, ttlMs: 600_000 } }) // ≈ 80 MB
 */
export interface KeyCacheOptions {
  /**
   * Most tenants whose keys are cached at once (least recently used tenants are evicted). Size it to
   * the tenants active within one `ttlMs`: beyond it every value costs a store read and an unwrap
   * (watch `tenantry.crypto_fields.key_cache.evictions{reason="capacity"}`).
   * @default 10000 (≈ 16 MB)
   */
  maxTenants?: number;
  /** How long an unwrapped key (and a tenant's primary key id) is trusted before re-reading the store. @default 300000 (5 min) */
  ttlMs?: number;
  /** How often expired keys are swept out without waiting for a read. @default min(ttlMs, 60000) */
  sweepIntervalMs?: number;
}

/** What {@link TenantKeys.cacheStats} reports: the cache's size and the keyring's running totals. */
export interface KeyCacheStats extends KeyCacheCounts {
  /** Tenants with at least one cached key. */
  tenants: number;
  /** Cached keys. */
  keys: number;
  /** The configured bound. */
  maxTenants: number;
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
    cachedPrimary: (t) => {
      const m = this.#cache.primary(t);
      if (m !== undefined) this.#metrics.hit('encrypt');
      return m;
    },
    cachedKey: (t, k) => {
      const m = this.#cache.key(t, k);
      if (m !== undefined) this.#metrics.hit('encrypt');
      return m;
    },
    primary: (t) => this.#primary(t),
    key: (t, k) => this.#key(t, k),
    indexKey: (t) => this.#indexKey(t),
  };
  readonly #provider: KeyProvider;
  readonly #store: DataKeyStore;
  readonly #cache: TenantKeyCache;
  readonly #metrics = new KeyMetrics();
  readonly #maxTenants: number;
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
    this.#maxTenants = options.cache?.maxTenants ?? DEFAULT_CACHE_MAX_TENANTS;
    const ttlMs = options.cache?.ttlMs ?? DEFAULT_CACHE_TTL_MS;
    this.#cache = new TenantKeyCache({
      maxTenants: this.#maxTenants,
      ttlMs,
      sweepIntervalMs: options.cache?.sweepIntervalMs ?? Math.min(ttlMs, 60_000),
      clock: this.#clock,
      onEvict: (reason, n) => this.#metrics.evicted(reason, n),
    });
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
    const cached = this.#cache.index(tenantId);
    if (cached !== undefined) {
      this.#metrics.hit('index');
      return cached;
    }
    return (await this.#loadPrimary(tenantId, 'index')) as IndexKeyMaterial;
  }

  async #key(tenantId: string, keyId: string): Promise<KeyMaterial> {
    const cached = this.#keyring.cachedKey(tenantId, keyId);
    if (cached) return cached;
    this.#metrics.miss('encrypt');
    const m = await this.#dedupe(`k\u0000${tenantId}\u0000${keyId}`, async () => {
      this.#metrics.storeRead('encrypt');
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
        this.#cache.deletePrimary(tenantId, purpose);
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
    this.#cache.deleteKey(tenant, keyId);
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
    this.#cache.deleteTenant(tenantId);
  }

  /**
   * The unwrapped-key cache's size and this keyring's running totals (hits, misses, store reads,
   * unwraps, evictions): the same numbers the OpenTelemetry counters report, for hosts without an SDK.
   * @example const { tenants, maxTenants, evictions } = fields.keys.cacheStats();
   */
  cacheStats(): KeyCacheStats {
    return {
      ...this.#metrics.counts,
      tenants: this.#cache.tenants,
      keys: this.#cache.keys,
      maxTenants: this.#maxTenants,
    };
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
    this.#metrics.miss(purpose);
    return this.#dedupe(cacheKey, async () => {
      this.#metrics.storeRead(purpose);
      let rec = await this.#store.getPrimary(tenantId, purpose);
      if (rec === null) {
        rec = await this.#store.createPrimaryIfAbsent(await this.#newRecord(tenantId, purpose));
      }
      const cachedById = purpose === 'encrypt' ? this.#cache.key(tenantId, rec.keyId) : undefined;
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
    this.#metrics.unwrapped(rec.purpose);
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
        ? new KeyMaterial(rec.tenantId, rec.keyId, raw, rec.primary)
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
        if (m instanceof IndexKeyMaterial) this.#cache.setIndex(m);
        // A key read by id that is the tenant's primary also answers the next seal (one store read
        // and one unwrap per tenant per TTL, whichever comes first).
        else if (kind === 'p' || m.primary) this.#cache.setPrimary(m);
        else this.#cache.setKey(m);
        return m;
      })
      .finally(() => this.#inflight.delete(cacheKey));
    this.#inflight.set(cacheKey, p);
    return p;
  }
}
