import { TenantryError, type TenantryErrorOptions } from '@tenantry/core';

/**
 * Error codes raised by `@tenantry/crypto-fields`. Codes are stable API: match on them, never on messages.
 */
export const CryptoErrorCodes = {
  /**
   * A ciphertext could not be opened: tampered, truncated, malformed, moved to another tenant, row or
   * field, or sealed under another key. Deliberately one code, so the error reveals nothing about why.
   */
  DECRYPT_FAILED: 'DECRYPT_FAILED',
  /** The ciphertext names a key id this tenant does not have (never created, retired or crypto-shredded). */
  UNKNOWN_KEY_ID: 'UNKNOWN_KEY_ID',
  /** A value that is not a ciphertext was found where one was expected and plaintext read-through is off. */
  PLAINTEXT_REJECTED: 'PLAINTEXT_REJECTED',
  /** The key provider failed to wrap or unwrap a data key (wrong KEK, tampered wrapped key, KMS outage). */
  KEY_PROVIDER_FAILED: 'KEY_PROVIDER_FAILED',
  /** A data key store operation failed or returned an inconsistent record. */
  KEY_STORE_FAILED: 'KEY_STORE_FAILED',
  /** A value cannot be sealed (e.g. not JSON-serialisable at a declared path). */
  UNSEALABLE_VALUE: 'UNSEALABLE_VALUE',
  /** A rotation job was stopped by its abort signal; its checkpoint lets the next run resume. */
  ROTATION_ABORTED: 'ROTATION_ABORTED',
} as const;

/** One of {@link CryptoErrorCodes}. */
export type CryptoErrorCode = (typeof CryptoErrorCodes)[keyof typeof CryptoErrorCodes];

/**
 * Error raised by `@tenantry/crypto-fields`. Messages and details never contain keys, plaintexts or
 * ciphertext bytes; `details` holds only safe identifiers (tenant id, key id, field path).
 * @example try { await fields.open(ct, ctx); } catch (e) { if (isTenantryError(e, 'DECRYPT_FAILED')) ... }
 */
export class CryptoFieldsError extends TenantryError {
  declare readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options: TenantryErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The one error every failed open turns into (no cause attached: causes could hint at the reason). */
export const decryptFailed = (): CryptoFieldsError =>
  new CryptoFieldsError('DECRYPT_FAILED', 'The value could not be decrypted');
