import { type Attributes, type Counter, metrics } from '@opentelemetry/api';
import type { EvictionReason } from './key-cache.js';
import type { DataKeyPurpose } from './key-provider.js';

/** Name of the OpenTelemetry meter (and tracer) of this package. */
export const METER_NAME = '@tenantry/crypto-fields';

/** Names of the counters this package records (OpenTelemetry metrics, no-ops without an SDK). */
export const CryptoMetricNames = {
  /** Key lookups answered from the cache (`crypto.purpose`). */
  CACHE_HITS: 'tenantry.crypto_fields.key_cache.hits',
  /** Key lookups that had to load the key (`crypto.purpose`); concurrent misses share one load. */
  CACHE_MISSES: 'tenantry.crypto_fields.key_cache.misses',
  /** Keys that left the cache without being asked to (`reason`: `capacity` or `expired`). */
  CACHE_EVICTIONS: 'tenantry.crypto_fields.key_cache.evictions',
  /** Data key store reads made to load a key (`crypto.purpose`). */
  STORE_READS: 'tenantry.crypto_fields.key_store.reads',
  /** Data keys unwrapped by the key provider (`crypto.purpose`): a KMS call for a KMS provider. */
  UNWRAPS: 'tenantry.crypto_fields.key_unwraps',
} as const;

// Attribute sets are allocated once: the hit counter runs on every sealed and opened value.
const PURPOSE: Record<DataKeyPurpose, Attributes> = {
  encrypt: Object.freeze({ 'crypto.purpose': 'encrypt' }),
  index: Object.freeze({ 'crypto.purpose': 'index' }),
};
const REASON: Record<EvictionReason, Attributes> = {
  capacity: Object.freeze({ reason: 'capacity' }),
  expired: Object.freeze({ reason: 'expired' }),
};

/** Running totals of one keyring, also returned by `TenantKeys#cacheStats()`. */
export interface KeyCacheCounts {
  hits: number;
  misses: number;
  storeReads: number;
  unwraps: number;
  evictions: number;
}

/**
 * The keyring's counters: plain numbers (for `cacheStats()`) mirrored into OpenTelemetry counters of
 * the meter `@tenantry/crypto-fields`. Instruments are created when the keyring is, from the global
 * MeterProvider at that time. No tenant attribute: thousands of tenants would be thousands of series
 * (tenants are on the `load_key` span instead).
 * @internal
 */
export class KeyMetrics {
  readonly counts: KeyCacheCounts = { hits: 0, misses: 0, storeReads: 0, unwraps: 0, evictions: 0 };
  readonly #hits: Counter;
  readonly #misses: Counter;
  readonly #evictions: Counter;
  readonly #reads: Counter;
  readonly #unwraps: Counter;

  constructor() {
    const meter = metrics.getMeter(METER_NAME);
    this.#hits = meter.createCounter(CryptoMetricNames.CACHE_HITS, {
      description: 'Data key lookups answered from the in-process cache',
    });
    this.#misses = meter.createCounter(CryptoMetricNames.CACHE_MISSES, {
      description:
        'Data key lookups that loaded the key (store read and unwrap, shared by concurrent misses)',
    });
    this.#evictions = meter.createCounter(CryptoMetricNames.CACHE_EVICTIONS, {
      description: 'Cached data keys dropped for capacity or expiry',
    });
    this.#reads = meter.createCounter(CryptoMetricNames.STORE_READS, {
      description: 'Data key store reads made to load keys',
    });
    this.#unwraps = meter.createCounter(CryptoMetricNames.UNWRAPS, {
      description: 'Data keys unwrapped by the key provider (KEK or KMS calls)',
    });
  }

  hit(purpose: DataKeyPurpose): void {
    this.counts.hits++;
    this.#hits.add(1, PURPOSE[purpose]);
  }
  miss(purpose: DataKeyPurpose): void {
    this.counts.misses++;
    this.#misses.add(1, PURPOSE[purpose]);
  }
  evicted(reason: EvictionReason, keys: number): void {
    if (keys <= 0) return;
    this.counts.evictions += keys;
    this.#evictions.add(keys, REASON[reason]);
  }
  storeRead(purpose: DataKeyPurpose): void {
    this.counts.storeReads++;
    this.#reads.add(1, PURPOSE[purpose]);
  }
  unwrapped(purpose: DataKeyPurpose): void {
    this.counts.unwraps++;
    this.#unwraps.add(1, PURPOSE[purpose]);
  }
}
