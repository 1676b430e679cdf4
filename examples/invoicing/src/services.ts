import { type ApprovalEngine, createApprovalEngine } from '@tenantry/approvals';
import { PostgresApprovalStore } from '@tenantry/approvals/postgres';
import { type AuditLog, createAuditLog } from '@tenantry/audit';
import { PostgresAuditSink } from '@tenantry/audit/postgres';
import {
  type Gatekeeper,
  type Impersonation,
  type NotificationPort,
  type Quotas,
  type TenantConfigSource,
  type TenantDirectory,
  type TenantNotification,
  createGatekeeper,
  createImpersonation,
  createQuotas,
  createTenantDirectory,
  defineSettings,
  directConfigSource,
  planQuotaLimits,
  uuidv7,
} from '@tenantry/core';
import {
  PostgresQuotaStore,
  PostgresTenantStore,
  type TenantUnitOfWork,
  createTenantUnitOfWork,
} from '@tenantry/core/postgres';
import { type FieldCrypto, createFieldCrypto, localKeyProvider } from '@tenantry/crypto-fields';
import { PostgresDataKeyStore } from '@tenantry/crypto-fields/postgres';
import { type PostgresSequencer, createPostgresSequencer } from '@tenantry/sequencer/postgres';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { z } from 'zod';
import { approvalTransactions } from './approval-tx.js';
import type { AppConfig } from './config.js';
import { type Database, openDatabase } from './database.js';
import type { MongoStores } from './mongo-stores.js';
import { migrate } from './schema.js';
import { type VaultSlot, createVaultSlot } from './vault-slot.js';

/** Settings and feature flags: defaults, overridden by platform settings, then plans, then tenants. */
export const settingsRegistry = defineSettings({
  'feature.email-invoices': { schema: z.boolean(), default: true },
  'feature.csv-export': { schema: z.boolean(), default: false },
  'console.banner': { schema: z.string().max(200), default: '' },
});

/** Tenant notifications stored per tenant and shown on its console ("support entered your account"). */
export class PostgresNotificationPort implements NotificationPort {
  constructor(private readonly uow: TenantUnitOfWork) {}
  async notify(n: TenantNotification): Promise<void> {
    // Under row-level security, in a unit of the notified tenant (support acts under runAsSystem).
    await this.uow.query(
      'INSERT INTO app_notifications (tenant_id, id, kind, data) VALUES ($1, $2, $3, $4)',
      [n.tenantId, uuidv7(), n.kind, JSON.stringify(n.data)],
      { tenantId: n.tenantId },
    );
  }
}

/** Everything the routes use, built once at start. */
export interface Services {
  readonly config: AppConfig;
  readonly db: Database;
  /** The privileged pool: platform work, migrations, seed, audit, keys, quotas (no row-level security). */
  readonly pool: pg.Pool;
  /**
   * Units of work on the tenant pool (`db.appPool`, acting as `invoicing_app`): every query of the
   * app's tenant tables runs in one, with the tenant set for its transaction, under row-level security.
   */
  readonly uow: TenantUnitOfWork;
  readonly redis: Redis | undefined;
  /**
   * The Mongo variant's stores (`MONGO_URL`): audit sink, approval store, data-key store and the
   * vault's snapshot index in MongoDB; `undefined` when they are on PostgreSQL/PGlite.
   */
  readonly mongo: MongoStores | undefined;
  readonly directory: TenantDirectory;
  readonly configSource: TenantConfigSource;
  readonly gatekeeper: Gatekeeper;
  readonly audit: AuditLog;
  readonly notifications: NotificationPort;
  readonly impersonation: Impersonation;
  readonly quotas: Quotas;
  readonly fields: FieldCrypto;
  readonly sequencer: PostgresSequencer;
  /**
   * The approvals engine. On the PostgreSQL store (PGlite or PostgreSQL) each decision runs in one
   * transaction of the app's, with the approved action, the EXECUTED mark and their audit events
   * (see `approval-tx.ts`). On the Mongo store (`MONGO_URL`) nothing spans the two databases: the
   * execution is claimed with a lease, the action commits in its own PostgreSQL transaction, then the
   * mark and the audit events are written to MongoDB; after a crash in between the action runs again
   * (its handler is idempotent), and an audit write that fails after the action leaves the action done.
   */
  readonly approvals: ApprovalEngine;
  /**
   * The audit log of approval transitions and of the actions they run: direct writes, on the
   * transition's own connection inside one (outside, like `audit`); with `MONGO_URL`, direct writes to
   * the Mongo sink, outside any transaction. Action handlers record through it.
   */
  readonly transitionAudit: AuditLog;
  readonly vault: VaultSlot;
  close(): Promise<void>;
}

export async function createServices(config: AppConfig): Promise<Services> {
  const db = await openDatabase(config.databaseUrl, config.dataDir, config.databaseAppUrl);
  const pool = db.pool;
  let mongo: MongoStores | undefined;
  try {
    await migrate(pool);
    if (config.mongo) {
      // Imported here, not at the top: without MONGO_URL the app never loads the mongodb driver.
      const { openMongoStores } = await import('./mongo-stores.js');
      mongo = await openMongoStores(config.mongo);
      await mongo.ensureIndexes();
    }
  } catch (error) {
    await mongo?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
  const uow = createTenantUnitOfWork(db.appPool);
  // Core's stores stay on PostgreSQL in both variants: the app's tables reference tenants and partners
  // by foreign key, and core has no Mongo quota store.
  const store = new PostgresTenantStore({ pool });
  const directory = createTenantDirectory({ store, settings: settingsRegistry });
  const configSource = directConfigSource(store);
  const gatekeeper = createGatekeeper({ config: configSource });
  const audit = createAuditLog({
    sink: mongo?.auditSink ?? new PostgresAuditSink({ pool }),
    signingKey: config.audit.signingKey,
    publicKeys: [config.audit.publicKey],
  });
  const notifications = new PostgresNotificationPort(uow);
  const impersonation = createImpersonation({ audit: audit.port, notifications });
  const quotas = createQuotas({
    store: new PostgresQuotaStore({ pool }),
    quotas: { emails: { window: 'day' } },
    limitFor: planQuotaLimits(configSource),
  });
  const fields = createFieldCrypto({
    provider: localKeyProvider({ keys: { [config.kek.id]: config.kek.key }, primary: config.kek.id }),
    store: mongo?.dataKeyStore ?? new PostgresDataKeyStore({ pool }),
  });
  // Unnamed statements (the sequencer's default): PGlite behind its socket server is one backend
  // session shared by every connection, and a transaction-mode pooler (PgBouncer) hands each
  // transaction any server connection, so named prepared statements would collide in both.
  const sequencer = createPostgresSequencer();
  const { approvals, transitionAudit } = mongo
    ? approvalsOnMongo(config, mongo)
    : approvalsOnPostgres(config, uow, db.appPool);
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 })
    : undefined;
  const vault = createVaultSlot({
    pool,
    uow,
    config,
    fields,
    audit: audit.port,
    directory,
    records: mongo?.snapshotRecords,
  });
  return {
    config,
    db,
    pool,
    uow,
    redis,
    mongo,
    directory,
    configSource,
    gatekeeper,
    audit,
    notifications,
    impersonation,
    quotas,
    fields,
    sequencer,
    approvals,
    transitionAudit,
    vault,
    async close() {
      await audit.close().catch(() => undefined);
      await transitionAudit.close().catch(() => undefined);
      vault.close();
      if (redis) await redis.quit().catch(() => undefined);
      await mongo?.close().catch(() => undefined);
      await db.close();
    },
  };
}

/**
 * Approval decisions commit together with the action they run and with their audit events, in one
 * transaction the app opens: the store and this audit log reach it through `scopedPool`. Direct
 * delivery: a buffered log would batch other requests' events into this transaction.
 */
function approvalsOnPostgres(
  config: AppConfig,
  uow: TenantUnitOfWork,
  appPool: Database['appPool'],
): { approvals: ApprovalEngine; transitionAudit: AuditLog } {
  const tx = approvalTransactions(uow, appPool);
  const transitionAudit = createAuditLog({
    sink: new PostgresAuditSink({ pool: tx.scopedPool }),
    delivery: { mode: 'direct' },
    signingKey: config.audit.signingKey,
    publicKeys: [config.audit.publicKey],
  });
  const approvals = tx.wrap(
    createApprovalEngine({
      store: new PostgresApprovalStore({ pool: tx.scopedPool }),
      audit: transitionAudit.port,
    }),
  );
  return { approvals, transitionAudit };
}

/**
 * The Mongo store is not transactional (`capabilities.transactional: false`), and no transaction spans
 * MongoDB and PostgreSQL: the engine claims the execution with a conditional write and a lease, the
 * action handler commits its PostgreSQL unit of work, then the EXECUTED mark and the audit events go
 * to MongoDB. Direct delivery, so a transition's audit write fails the call that made it.
 */
function approvalsOnMongo(
  config: AppConfig,
  mongo: MongoStores,
): { approvals: ApprovalEngine; transitionAudit: AuditLog } {
  const transitionAudit = createAuditLog({
    sink: mongo.auditSink,
    delivery: { mode: 'direct' },
    signingKey: config.audit.signingKey,
    publicKeys: [config.audit.publicKey],
  });
  const approvals = createApprovalEngine({ store: mongo.approvalStore, audit: transitionAudit.port });
  return { approvals, transitionAudit };
}
