import {
  type Clock,
  type Logger,
  type RandomSource,
  cryptoRandom,
  noopLogger,
  systemClock,
} from '@tenantry/core';
import type { DataKeyRecord, DataKeyStore } from './data-key-store.js';
import { CryptoFieldsError } from './errors.js';
import { KeyCache } from './key-cache.js';
import { IndexKeyMaterial, KeyMaterial } from './key-material.js';
import type { DataKeyPurpose, KeyProvider } from './key-provider.js';
import { redactObject } from './redact.js';
import { traced } from './tracing.js';

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

/**
 * The keyring of every tenant: one primary data key per tenant (encrypts) and older keys (decrypt
 * only), each wrapped by the provider's KEK and kept in a {@link DataKeyStore}. Unwrapped keys are
 * cached (LRU + TTL); concurrent misses for one key share a single unwrap.
 * @example const keys = new TenantKeys({ provider, store }); await keys.rotate('acme');
 */
export class TenantKeys {
  readonly #provider: KeyProvider;
  readonly #store: DataKeyStore;
  readonly #cache: KeyCache<Material>;
  readonly #inflight = new Map<string, Promise<Material>>();
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #logger: Logger;

  constructor(options: TenantKeysOptions) {
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

  /** The cached primary encryption key of a tenant, if any (sync fast path). @internal */
  cachedPrimary(tenantId: string): KeyMaterial | undefined {
    return this.#cache.get(`p\u0000encrypt\u0000${tenantId}`) as KeyMaterial | undefined;
  }

  /** The cached key by id, if any (sync fast path). @internal */
  cachedKey(tenantId: string, keyId: string): KeyMaterial | undefined {
    return this.#cache.get(`k\u0000${tenantId}\u0000${keyId}`) as KeyMaterial | undefined;
  }

  /**
   * The tenant's primary encryption key, creating the tenant's first data key when it has none.
   * @throws CryptoFieldsError `KEY_PROVIDER_FAILED` | `KEY_STORE_FAILED`
   */
  async primary(tenantId: string): Promise<KeyMaterial> {
    return (this.cachedPrimary(tenantId) ?? (await this.#loadPrimary(tenantId, 'encrypt'))) as KeyMaterial;
  }

  /** The tenant's blind-index key, created on first use. It does not rotate with the data keys. */
  async indexKey(tenantId: string): Promise<IndexKeyMaterial> {
    const cached = this.#cache.get(`p\u0000index\u0000${tenantId}`);
    return (cached ?? (await this.#loadPrimary(tenantId, 'index'))) as IndexKeyMaterial;
  }

  /**
   * A key by id, for decryption (primary or older).
   * @throws CryptoFieldsError `UNKNOWN_KEY_ID` when the tenant has no such key (never existed, deleted, shredded)
   */
  async key(tenantId: string, keyId: string): Promise<KeyMaterial> {
    const cached = this.cachedKey(tenantId, keyId);
    if (cached) return cached;
    const m = await this.#dedupe(`k\u0000${tenantId}\u0000${keyId}`, async () => {
      const rec = await this.#store.get(tenantId, keyId);
      if (rec === null || rec.purpose !== 'encrypt') {
        throw new CryptoFieldsError('UNKNOWN_KEY_ID', 'The value names a key this tenant does not have', {
          details: { tenantId, keyId },
        });
      }
      return this.#unwrap(rec);
    });
    return m as KeyMaterial;
  }

  /**
   * Make a fresh data key the tenant's primary (older keys keep decrypting). Run a rotation job
   * afterwards to move existing values to it. Other processes pick it up within the cache TTL.
   * @returns the new key id
   */
  async rotate(tenantId: string, purpose: DataKeyPurpose = 'encrypt'): Promise<string> {
    return traced(
      'crypto-fields.rotate-key',
      { 'tenantry.tenant_id': tenantId, 'crypto.purpose': purpose },
      async () => {
        const rec = await this.#newRecord(tenantId, purpose);
        await this.#store.promote(rec);
        this.#cache.deletePrefix(`p\u0000${purpose}\u0000${tenantId}`);
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
   */
  async shred(tenantId: string): Promise<number> {
    return traced('crypto-fields.shred', { 'tenantry.tenant_id': tenantId }, async () => {
      const n = await this.#store.deleteTenant(tenantId);
      this.forget(tenantId);
      this.#logger.warn({ tenantId, deletedKeys: n }, 'crypto-fields: tenant data keys destroyed');
      return n;
    });
  }

  /** Delete one retired (non-primary) key after rotation moved every value off it. */
  async retire(tenantId: string, keyId: string): Promise<boolean> {
    const ok = await this.#store.deleteKey(tenantId, keyId);
    this.#cache.deletePrefix(`k\u0000${tenantId}\u0000${keyId}`);
    return ok;
  }

  /** Drop a tenant's keys from this process's cache. */
  forget(tenantId: string): void {
    this.#cache.deletePrefix(`p\u0000encrypt\u0000${tenantId}`);
    this.#cache.deletePrefix(`p\u0000index\u0000${tenantId}`);
    this.#cache.deletePrefix(`k\u0000${tenantId}\u0000`);
  }

  /**
   * KEK rotation: rewrap every data key not wrapped by the provider's primary KEK (data keys and
   * ciphertexts stay unchanged). Conditional per key, so concurrent runs are safe.
   * @returns how many keys were rewrapped
   */
  async rewrapAll(): Promise<number> {
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
    const cacheKey = `p\u0000${purpose}\u0000${tenantId}`;
    return this.#dedupe(cacheKey, async () => {
      let rec = await this.#store.getPrimary(tenantId, purpose);
      if (rec === null) {
        rec = await this.#store.createPrimaryIfAbsent(await this.#newRecord(tenantId, purpose));
      }
      const cachedById = purpose === 'encrypt' ? this.cachedKey(tenantId, rec.keyId) : undefined;
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
      throw new CryptoFieldsError('KEY_PROVIDER_FAILED', 'The unwrapped data key has the wrong length', {
        details: { tenantId: rec.tenantId, keyId: rec.keyId },
      });
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
        ? { 'tenantry.tenant_id': a ?? '', 'crypto.key_id': b ?? '' }
        : { 'tenantry.tenant_id': b ?? '', 'crypto.purpose': a ?? '' };
    const p = traced('crypto-fields.load-key', attributes, load)
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
