import type { ApprovalStore } from '@tenantry/approvals';
import type { ReadableAuditSink } from '@tenantry/audit';
import { TenantryError } from '@tenantry/core';
import type { DataKeyStore } from '@tenantry/crypto-fields';
import type { SnapshotRecordStore } from '@tenantry/vault';
import type { Db } from 'mongodb';
import type { MongoConfig } from './config.js';
import { InvoicingError } from './errors.js';

/**
 * The Mongo variant's stores (`MONGO_URL`), one per package that has a Mongo backend the app uses:
 *
 * | store | backend | collections |
 * |---|---|---|
 * | audit chain and checkpoints (requests' events and approval transitions' events) | `MongoAuditSink` | `tenantry_audit_events`, `tenantry_audit_checkpoints` |
 * | approval requests and policies | `MongoApprovalStore` (not transactional: lease + idempotency key) | `tenantry_approval_requests`, `tenantry_approval_policies` |
 * | wrapped data keys of crypto-fields | `MongoDataKeyStore` | `tenantry_crypto_data_keys` |
 * | the vault's snapshot index | `MongoSnapshotRecordStore` | `tenantry_vault_snapshots` |
 *
 * Not here, on purpose: core's tenant store (tenants, partners, plans, subscriptions, platform and
 * tenant settings) stays on PostgreSQL because the app's tables reference tenants and partners by
 * foreign key; quotas stay there too (core has no Mongo quota store); the sequencer's counters stay
 * with the documents they number (same transaction). Impersonation has no store of its own (audit +
 * the app's notifications table).
 */
export interface MongoStores {
  readonly kind: 'mongo';
  /** The database every collection is in (for tools and tests). */
  readonly db: Db;
  readonly auditSink: ReadableAuditSink;
  readonly approvalStore: ApprovalStore;
  readonly dataKeyStore: DataKeyStore;
  readonly snapshotRecords: SnapshotRecordStore;
  /**
   * Create every package's indexes (idempotent, safe from several instances at once): the Mongo
   * equivalent of the migrations applied at start. Connects on first use.
   * @throws TenantryError the packages' own codes (e.g. `AUDIT_STORE_UNAVAILABLE`), or
   *   `INVOICING_STORE_UNAVAILABLE` (retryable) for a driver error they leave unwrapped
   */
  ensureIndexes(): Promise<void>;
  /** Close the client (idempotent). */
  close(): Promise<void>;
}

/**
 * Build the Mongo stores from `config`. Imports the driver and the packages' `/mongo` subpaths here,
 * lazily, so an app without `MONGO_URL` never loads `mongodb`. No I/O: the driver connects on the
 * first operation ({@link MongoStores.ensureIndexes} at start).
 * @throws InvoicingError `INVOICING_CONFIG_INVALID` when the driver refuses the URL's options
 */
export async function openMongoStores(config: MongoConfig): Promise<MongoStores> {
  const [{ MongoClient }, audit, approvals, crypto, vault] = await Promise.all([
    import('mongodb'),
    import('@tenantry/audit/mongo'),
    import('@tenantry/approvals/mongo'),
    import('@tenantry/crypto-fields/mongo'),
    import('@tenantry/vault/mongo'),
  ]);
  let client: InstanceType<typeof MongoClient>;
  try {
    client = new MongoClient(config.url, { appName: 'tenantry-invoicing' });
  } catch (error) {
    // Not the driver's message: it may quote part of the URL, which can hold a password.
    throw new InvoicingError(
      'INVOICING_CONFIG_INVALID',
      'MONGO_URL is refused by the driver (see the cause)',
      {
        cause: error,
      },
    );
  }
  const db = client.db(config.dbName);
  let closed = false;
  return {
    kind: 'mongo',
    db,
    auditSink: new audit.MongoAuditSink({ db }),
    approvalStore: new approvals.MongoApprovalStore({ db }),
    dataKeyStore: new crypto.MongoDataKeyStore({ db }),
    snapshotRecords: new vault.MongoSnapshotRecordStore({ db }),
    async ensureIndexes() {
      try {
        await audit.ensureAuditIndexes(db);
        await approvals.ensureApprovalsIndexes(db);
        await crypto.ensureCryptoFieldsIndexes(db);
        await vault.ensureVaultIndexes(db);
      } catch (error) {
        if (error instanceof TenantryError) throw error;
        throw new InvoicingError(
          'INVOICING_STORE_UNAVAILABLE',
          'MongoDB did not accept the index creation at start',
          { cause: error },
        );
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}
