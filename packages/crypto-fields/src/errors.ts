import { TenantryError, type TenantryErrorOptions, defineErrorCodes } from '@tenantry/core';

/**
 * Error codes raised by `@tenantry/crypto-fields`, with the HTTP status adapters answer with. Codes are
 * stable API: match on them, never on messages. Input validation failures use core's
 * `VALIDATION_FAILED`; tenant isolation uses core's `TENANT_CONTEXT_MISSING` / `TENANT_CONTEXT_CONFLICT`.
 */
export const CryptoErrorCodes = defineErrorCodes({
  /**
   * A ciphertext could not be opened: tampered, truncated, malformed, moved to another tenant, row or
   * field, or sealed under another key. Deliberately one code, so the error reveals nothing about why.
   * A stored value is broken, not the request: 500.
   */
  CRYPTO_DECRYPT_FAILED: { status: 500 },
  /** The ciphertext names a key id this tenant does not have (never created, retired or crypto-shredded). */
  CRYPTO_UNKNOWN_KEY_ID: { status: 500 },
  /** A value that is not a ciphertext was found where one was expected and plaintext read-through is off. */
  CRYPTO_PLAINTEXT_REJECTED: { status: 500 },
  /** A value to seal is already a ciphertext (e.g. a loaded document saved again without opening it). */
  CRYPTO_ALREADY_SEALED: { status: 422 },
  /** The key provider failed to wrap or unwrap a data key (wrong or missing KEK, tampered wrapped key, KMS outage). */
  CRYPTO_KEY_PROVIDER_FAILED: { status: 502 },
  /** A data key store operation failed or returned an inconsistent record (the driver error is the `cause`). */
  CRYPTO_KEY_STORE_FAILED: { status: 500 },
  /** The key store cannot be reached (connection refused or lost, pool exhausted). Retry later. */
  CRYPTO_STORE_UNAVAILABLE: { status: 503, retryable: true },
  /** The key store's tables do not exist: run `runMigrations(pool, cryptoFieldsMigrations)`. */
  CRYPTO_NOT_MIGRATED: { status: 500 },
  /** A value cannot be sealed (not JSON-serialisable at a declared path, missing row id with `bindRowId`). */
  CRYPTO_UNSEALABLE_VALUE: { status: 422 },
  /** A rotation job was stopped by its abort signal; its checkpoint lets the next run resume. */
  CRYPTO_ROTATION_ABORTED: { status: 503, retryable: true },
});

/** One of {@link CryptoErrorCodes}. */
export type CryptoErrorCode = keyof typeof CryptoErrorCodes;

/**
 * Error raised by `@tenantry/crypto-fields`. Messages and details never contain keys, plaintexts or
 * ciphertext bytes; `details` holds only safe identifiers (tenant id, key id, field path).
 * @example try { await fields.open(ct, ctx); } catch (e) { if (isTenantryError(e, 'CRYPTO_DECRYPT_FAILED')) ... }
 */
export class CryptoFieldsError extends TenantryError {
  declare readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options: TenantryErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The one error every failed open turns into (no cause attached: causes could hint at the reason). */
export const decryptFailed = (): CryptoFieldsError =>
  new CryptoFieldsError('CRYPTO_DECRYPT_FAILED', 'The value could not be decrypted');
