import { TenantIdSchema, parseInput } from '@tenantry/core';
import { z } from 'zod';
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

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A data key record as stores accept it (ids bounded and plain, so no store sees a hostile value). */
export const DataKeyRecordSchema = z.object({
  tenantId: TenantIdSchema,
  keyId: z.string().regex(KEY_ID),
  purpose: z.enum(['encrypt', 'index']),
  kekId: z.string().regex(KEY_ID),
  wrappedKey: z.string().min(1).max(16_384),
  primary: z.boolean(),
  createdAt: z.date().refine((d) => !Number.isNaN(d.getTime()), 'must be a valid date'),
});

/**
 * Check the arguments of a {@link DataKeyStore} call before any backend sees them: a tenant id, and
 * optionally a key id (or KEK id) and purpose. Every backend calls it, so a hostile value (an object
 * that a document database would read as a query operator, a non-string, a 10 MB id) is
 * `VALIDATION_FAILED`, never a driver error.
 * @internal
 */
export function checkStoreArgs(tenantId: unknown, keyId?: unknown, purpose?: unknown): void {
  if (typeof tenantId !== 'string' || !TENANT_ID.test(tenantId))
    parseInput(TenantIdSchema, tenantId, 'tenant id');
  if (keyId !== undefined && (typeof keyId !== 'string' || !KEY_ID.test(keyId))) {
    parseInput(z.string().regex(KEY_ID), keyId, 'key id');
  }
  if (purpose !== undefined && purpose !== 'encrypt' && purpose !== 'index') {
    parseInput(z.enum(['encrypt', 'index']), purpose, 'data key purpose');
  }
}

/** Check a record handed to a store. @internal */
export function checkStoreRecord(record: unknown): DataKeyRecord {
  return parseInput(DataKeyRecordSchema, record, 'data key record') as DataKeyRecord;
}

/** Check a KEK id handed to a store. @internal */
export function checkKekId(kekId: unknown): void {
  if (typeof kekId !== 'string' || !KEY_ID.test(kekId)) parseInput(z.string().regex(KEY_ID), kekId, 'KEK id');
}

/** Check a wrapped key handed to `rewrap`. @internal */
export function checkWrapped(wrapped: unknown): void {
  parseInput(DataKeyRecordSchema.pick({ kekId: true, wrappedKey: true }), wrapped, 'wrapped key');
}
