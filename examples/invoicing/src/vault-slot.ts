import type pg from 'pg';
import type { AppConfig } from './config.js';
import { TENANT_TABLES } from './schema.js';

/**
 * The place where `@tenantry/vault` plugs in: per-tenant snapshots to the S3-compatible store,
 * restore, the GDPR export and the coverage check of the app's tables. The vault package was not
 * merged when this app was built, so the slot reports itself unavailable and the console hides the
 * snapshot pages; wiring it means implementing these four functions with the vault's engine.
 */
export interface VaultSlot {
  /** Whether snapshots, restore and exports work. */
  readonly available: boolean;
  /** Why not, when they do not. */
  readonly reason: string | undefined;
  /** The tenant-scoped tables the vault's modules must cover. */
  readonly tenantTables: readonly string[];
}

export function createVaultSlot(_deps: { pool: pg.Pool; config: AppConfig }): VaultSlot {
  return {
    available: false,
    reason:
      '@tenantry/vault is not merged yet: snapshots, restore, GDPR export and the coverage check are not wired',
    tenantTables: TENANT_TABLES,
  };
}
