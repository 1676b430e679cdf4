import { TenantryError, type TenantryErrorOptions, defineErrorCodes } from '@tenantry/core';

/**
 * Error codes raised by `@tenantry/vault`, with the HTTP status adapters answer with. Codes are
 * stable API: match on them, never on messages. Core's kernel codes (`VALIDATION_FAILED`,
 * `TENANT_CONTEXT_*`) are raised too.
 */
export const VaultErrorCodes = defineErrorCodes({
  /** A module with that name is already registered. */
  VAULT_MODULE_DUPLICATE: { status: 409 },
  /** A module depends on a module that is not registered; `details.module`, `details.dependency` name them. */
  VAULT_MODULE_UNKNOWN_DEPENDENCY: { status: 400 },
  /** The module dependencies form a cycle; `details.cycle` lists it (first name repeated at the end). */
  VAULT_MODULE_CYCLE: { status: 400 },
  /** A snapshot names a module that is not registered here; `details.module` names it. */
  VAULT_MODULE_NOT_FOUND: { status: 404 },
  /** A module's export, import or clean failed; `details.module` and `details.step` say where (cause kept). */
  VAULT_MODULE_FAILED: { status: 500 },
  /** The snapshot was written by a newer schema version of a module than the running code knows. */
  VAULT_SCHEMA_TOO_NEW: { status: 409 },
  /**
   * The store's layout differs from the snapshot's (a column it holds is missing, or its type changed);
   * `details.module`, `details.column` say where. Nothing was changed: migrate the table back, or
   * restore with code that upgrades the records.
   */
  VAULT_SCHEMA_MISMATCH: { status: 409 },
  /** The snapshot holds an older schema version and no upgrade function covers the step. */
  VAULT_UPGRADE_MISSING: { status: 409 },
  /** No snapshot with that id (or none before that time) exists for the tenant. */
  VAULT_SNAPSHOT_NOT_FOUND: { status: 404 },
  /** The snapshot failed verification (manifest, chunk authentication, checksum, truncation, order). Nothing was changed. */
  VAULT_SNAPSHOT_CORRUPT: { status: 422 },
  /** The snapshot belongs to another tenant. Nothing was changed. */
  VAULT_SNAPSHOT_TENANT_MISMATCH: { status: 422 },
  /** The snapshot's format version is not one this code reads. */
  VAULT_FORMAT_UNSUPPORTED: { status: 422 },
  /** A snapshot record with that id already exists for the tenant. */
  VAULT_SNAPSHOT_EXISTS: { status: 409 },
  /** The snapshot is not complete (still being written, or its writer failed). */
  VAULT_SNAPSHOT_INCOMPLETE: { status: 409 },
  /** The restore failed and the tenant was put back as it was; `details.module` names the failing module. */
  VAULT_RESTORE_FAILED: { status: 500 },
  /** The restore failed and putting the tenant back failed too; the safety snapshot id is in `details.safetySnapshotId`. */
  VAULT_RESTORE_ROLLBACK_FAILED: { status: 500 },
  /** The tenant's data key could not be obtained (crypto-fields), e.g. shredded. */
  VAULT_KEY_UNAVAILABLE: { status: 500 },
  /** The operation was aborted through its `AbortSignal`. */
  VAULT_ABORTED: { status: 503, retryable: true },
  /** No object under that storage key. */
  VAULT_OBJECT_NOT_FOUND: { status: 404 },
  /** A storage key is not a valid relative path (empty, absolute, `..`, control characters). */
  VAULT_STORAGE_KEY_INVALID: { status: 400 },
  /** The snapshot storage could not be reached or failed. Retry. */
  VAULT_STORAGE_UNAVAILABLE: { status: 503, retryable: true },
  /** Tables or rows exist that no registered module exports (coverage check). */
  VAULT_COVERAGE_GAPS: { status: 500 },
  /** A destructive command (the CLI's `restore`) was run without confirming it (`--yes`). Nothing was done. */
  VAULT_CONFIRMATION_REQUIRED: { status: 400 },
  /** A configuration (CLI config file, module declaration) is invalid. */
  VAULT_CONFIG_INVALID: { status: 400 },
  /** The PostgreSQL tables do not exist: run `runMigrations(pool, vaultMigrations)`. */
  VAULT_NOT_MIGRATED: { status: 500 },
  /** The database refused a statement of the vault (permissions, constraint); the cause is kept. */
  VAULT_STORE_FAILED: { status: 500 },
  /** The snapshot records store could not be reached. Retry. */
  VAULT_STORE_UNAVAILABLE: { status: 503, retryable: true },
});

/** One of {@link VaultErrorCodes}. */
export type VaultErrorCode = keyof typeof VaultErrorCodes;

/**
 * Error of `@tenantry/vault`; `code` is one of {@link VaultErrorCodes}. Messages and details hold
 * ids, module names and codes only, never record contents or keys.
 * @example if (isTenantryError(e, 'VAULT_SNAPSHOT_CORRUPT')) alert(e.details.snapshotId);
 */
export class VaultError extends TenantryError {
  declare readonly code: VaultErrorCode;
  constructor(code: VaultErrorCode, message: string, options: TenantryErrorOptions = {}) {
    super(code, message, options);
  }
}
