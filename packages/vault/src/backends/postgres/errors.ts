import { TenantryError } from '@tenantry/core';
import { VaultError } from '../../errors.js';

const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
]);

/** Maps a driver error: a missing vault table → `VAULT_NOT_MIGRATED`, a lost server → `VAULT_STORE_UNAVAILABLE`. */
export function mapPgError(error: unknown, what: 'records' | 'module'): unknown {
  if (error instanceof TenantryError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (what === 'records' && code === '42P01') {
    return new VaultError(
      'VAULT_NOT_MIGRATED',
      'The vault tables do not exist: run runMigrations(pool, vaultMigrations) or migrations/001_tenantry_vault.sql',
      {
        cause: error,
      },
    );
  }
  if (typeof code === 'string' && UNAVAILABLE.has(code)) {
    return new VaultError('VAULT_STORE_UNAVAILABLE', 'PostgreSQL could not be reached', { cause: error });
  }
  if (what === 'records')
    return new VaultError('VAULT_STORE_FAILED', 'PostgreSQL refused a statement of the vault', {
      cause: error,
    });
  return error;
}
