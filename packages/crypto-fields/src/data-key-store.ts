import type { DataKeyPurpose } from './key-provider.js';

/** One wrapped data key as a {@link DataKeyStore} keeps it. Holds no usable key material. */
export interface DataKeyRecord {
  tenantId: string;
  /** Unique within the tenant; appears in every ciphertext header. */
  keyId: string;
  purpose: DataKeyPurpose;
  /** Id of the KEK that wrapped it. */
  kekId: string;
  /** The wrapped data key (provider-specific text). */
  wrappedKey: string;
  /** Whether this is the tenant's current key for its purpose (exactly one per tenant and purpose). */
  primary: boolean;
  createdAt: Date;
}

/**
 * Where wrapped per-tenant data keys live (the port). Implementations: memory, PostgreSQL, MongoDB;
 * all pass `dataKeyStoreConformance` from `@tenantry/crypto-fields/testing`.
 *
 * Contract: at most one primary per (tenant, purpose), even with concurrent callers in many processes;
 * `deleteTenant` removes every key of the tenant (crypto-shredding).
 */
export interface DataKeyStore {
  /** Short name for diagnostics. */
  readonly name: string;
  /**
   * Insert `record` (with `primary: true`) unless the tenant already has a primary for its purpose;
   * returns the primary that exists afterwards (ours, or the one a concurrent caller inserted first).
   */
  createPrimaryIfAbsent(record: DataKeyRecord): Promise<DataKeyRecord>;
  /** Insert `record` as the new primary and demote the previous one, atomically. */
  promote(record: DataKeyRecord): Promise<void>;
  /** One key by id, or null. */
  get(tenantId: string, keyId: string): Promise<DataKeyRecord | null>;
  /** The tenant's primary for a purpose, or null. */
  getPrimary(tenantId: string, purpose: DataKeyPurpose): Promise<DataKeyRecord | null>;
  /** Every key of a tenant, oldest first. */
  list(tenantId: string): Promise<DataKeyRecord[]>;
  /** Tenants that have at least one key wrapped by a KEK other than `kekId` (for KEK rotation). */
  tenantsNotWrappedBy(kekId: string): Promise<string[]>;
  /** Replace a key's wrapped form if it is still wrapped by `expectedKekId`; returns whether it changed. */
  rewrap(
    tenantId: string,
    keyId: string,
    expectedKekId: string,
    wrapped: { kekId: string; wrappedKey: string },
  ): Promise<boolean>;
  /** Delete one non-primary key (once rotation moved every value off it); false if absent or primary. */
  deleteKey(tenantId: string, keyId: string): Promise<boolean>;
  /** Delete every key of a tenant (crypto-shredding); returns how many were deleted. */
  deleteTenant(tenantId: string): Promise<number>;
}
