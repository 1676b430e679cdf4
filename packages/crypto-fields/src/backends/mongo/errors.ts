import { isTenantryError } from '@tenantry/core';
import { CryptoFieldsError } from '../../errors.js';

/**
 * Turn a MongoDB driver error into a Tenantry error, the driver error kept as `cause` (never in the
 * message): network and server-selection failures are `CRYPTO_STORE_UNAVAILABLE` (retryable), anything
 * else `CRYPTO_KEY_STORE_FAILED`.
 * @internal
 */
export function mongoStoreError(error: unknown, operation: string): Error {
  if (isTenantryError(error)) return error;
  const name = error instanceof Error ? error.name : '';
  if (
    /^Mongo(Network|NetworkTimeout|ServerSelection|TopologyClosed|NotConnected|PoolClosed)Error$/.test(name)
  ) {
    return new CryptoFieldsError('CRYPTO_STORE_UNAVAILABLE', 'The MongoDB key store is unreachable', {
      cause: error,
      details: { operation },
    });
  }
  return new CryptoFieldsError('CRYPTO_KEY_STORE_FAILED', 'A MongoDB key store operation failed', {
    cause: error,
    details: { operation },
  });
}
