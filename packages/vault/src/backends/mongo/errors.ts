import { TenantryError } from '@tenantry/core';
import { VaultError } from '../../errors.js';

/** Maps a driver error: duplicate key → `VAULT_SNAPSHOT_EXISTS` (records), network → `VAULT_STORE_UNAVAILABLE`, else `VAULT_STORE_FAILED`. */
export function mapMongoError(error: unknown, what: 'records' | 'module'): unknown {
  if (error instanceof TenantryError) return error;
  const e = error as { code?: unknown; name?: unknown } | null;
  if (what === 'records' && e?.code === 11000) {
    return new VaultError('VAULT_SNAPSHOT_EXISTS', 'A snapshot record with that id exists', { cause: error });
  }
  const name = typeof e?.name === 'string' ? e.name : '';
  if (/Network|ServerSelection|PoolCleared|Timeout/.test(name)) {
    return new VaultError('VAULT_STORE_UNAVAILABLE', 'MongoDB could not be reached', { cause: error });
  }
  if (what === 'records')
    return new VaultError('VAULT_STORE_FAILED', 'MongoDB refused an operation of the vault', {
      cause: error,
    });
  return error;
}
