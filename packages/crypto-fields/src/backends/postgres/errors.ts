import { isTenantryError } from '@tenantry/core';
import { CryptoFieldsError } from '../../errors.js';

// Connection-level failures: SQLSTATE classes 08 (connection exception), 57P01-57P03 (shutdown,
// cannot connect now), 53300 (too many connections), and Node socket errors.
const UNAVAILABLE = /^(08...|57P0[123]|53300|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)$/;

/**
 * Turn a driver error into a Tenantry error: the driver error is kept as `cause`, never in the message
 * (it may quote values). A missing table is `CRYPTO_NOT_MIGRATED`; an unreachable server
 * `CRYPTO_STORE_UNAVAILABLE` (retryable); anything else `CRYPTO_KEY_STORE_FAILED`.
 * @internal
 */
export function storeError(error: unknown, operation: string): Error {
  if (isTenantryError(error)) return error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const details = { operation, ...(typeof code === 'string' ? { sqlState: code } : {}) };
  if (code === '42P01') {
    return new CryptoFieldsError(
      'CRYPTO_NOT_MIGRATED',
      'The crypto-fields tables do not exist: run runMigrations(pool, cryptoFieldsMigrations)',
      { cause: error, details },
    );
  }
  const message = error instanceof Error ? error.message : '';
  if (
    (typeof code === 'string' && UNAVAILABLE.test(code)) ||
    /timeout exceeded when trying to connect|Connection terminated/i.test(message)
  ) {
    return new CryptoFieldsError('CRYPTO_STORE_UNAVAILABLE', 'The PostgreSQL key store is unreachable', {
      cause: error,
      details,
    });
  }
  return new CryptoFieldsError('CRYPTO_KEY_STORE_FAILED', 'A PostgreSQL key store operation failed', {
    cause: error,
    details,
  });
}
