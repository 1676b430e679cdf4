import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ActionContext, ApprovalEngine, ActionHandler } from '@tenantry/approvals';
import { MongoApprovalStore } from '@tenantry/approvals/mongo';
import { MongoAuditSink } from '@tenantry/audit/mongo';
import { isTenantryError, runAsTenant } from '@tenantry/core';
import { MongoDataKeyStore } from '@tenantry/crypto-fields/mongo';
import { MongoSnapshotRecordStore } from '@tenantry/vault/mongo';
import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../src/app.js';
import { loadConfig, mongoConfig } from '../src/config.js';
import { type DocumentRow, registerApprovalActions } from '../src/documents.js';
import { openMongoStores } from '../src/mongo-stores.js';
import { ApiClient } from './helpers.js';

// What can be proven about the Mongo variant without a MongoDB server (there is none on the machine
// this was written on): the configuration, that the driver stays unloaded without MONGO_URL, which
// backends the composition picks, that start-up creates the indexes before serving, and that the
// void handler can run twice (the Mongo approval store calls handlers at least once). The story on
// MongoDB itself is test/story.mongo.test.ts, skipped without a server.

const KEK = { TENANTRY_KEK: Buffer.alloc(32, 7).toString('base64') };
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// Nothing listens on port 1: the driver fails server selection after this many milliseconds.
const UNREACHABLE = 'mongodb://127.0.0.1:1/invoicing_test?serverSelectionTimeoutMS=300';

function configError(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isTenantryError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('MONGO_URL', () => {
  it('takes mongodb:// (one host or a replica set) and mongodb+srv://; the database is the path, default invoicing', () => {
    expect(mongoConfig('mongodb://u:p@db1:27017,db2:27018/ledger?replicaSet=rs0')).toEqual({
      url: 'mongodb://u:p@db1:27017,db2:27018/ledger?replicaSet=rs0',
      dbName: 'ledger',
    });
    expect(mongoConfig('mongodb+srv://cluster0.example.net/?retryWrites=true')?.dbName).toBe('invoicing');
    expect(mongoConfig('mongodb://[::1]:27017')?.dbName).toBe('invoicing');
    expect(mongoConfig(undefined)).toBeUndefined();
    expect(mongoConfig('')).toBeUndefined();
    const config = loadConfig({ ...KEK, DATABASE_URL: 'postgres://x@h/db', MONGO_URL: 'mongodb://h/app' });
    expect(config.mongo).toEqual({ url: 'mongodb://h/app', dbName: 'app' });
    expect(loadConfig({ ...KEK, DATABASE_URL: 'postgres://x@h/db' }).mongo).toBeUndefined();
  });

  it('refuses a malformed URL with INVOICING_CONFIG_INVALID, without repeating it (it may hold a password)', () => {
    for (const bad of [
      'http://h:27017/app',
      'mongodb://',
      'mongodb://secret-pw@/app',
      'mongodb://h/app.events',
      'mongodb://h/a b',
      'mongodb+srv://h:27017/app',
      'mongodb+srv://a,b/app',
      'mongodb://h:27017:1/app',
    ]) {
      const e = configError(() => loadConfig({ ...KEK, DATABASE_URL: 'postgres://x@h/db', MONGO_URL: bad }));
      expect(e.code, bad).toBe('INVOICING_CONFIG_INVALID');
      expect(e.message).toMatch(/^MONGO_URL /);
      expect(e.message).not.toContain('secret-pw');
    }
  });

  it('refuses MONGO_URL with the in-memory embedded database, which would not outlive the stores in MongoDB', () => {
    expect(configError(() => loadConfig({ ...KEK, MONGO_URL: 'mongodb://h/app' })).code).toBe(
      'INVOICING_CONFIG_INVALID',
    );
    const dir = join(tmpdir(), 'invoicing-mongo-config');
    expect(loadConfig({ ...KEK, MONGO_URL: 'mongodb://h/app', DATA_DIR: dir }).mongo?.dbName).toBe('app');
  });

  it('a URL the driver refuses (an unknown option value) stops the start with INVOICING_CONFIG_INVALID', async () => {
    const config = mongoConfig('mongodb://h/app?journal=maybe');
    expect(config).toBeDefined();
    await expect(openMongoStores(config!)).rejects.toMatchObject({ code: 'INVOICING_CONFIG_INVALID' });
  });
});

describe('the composition with MONGO_URL', () => {
  it('selects the Mongo backend of each store the app keeps in MongoDB (constructed without connecting)', async () => {
    const stores = await openMongoStores(mongoConfig(UNREACHABLE)!);
    try {
      expect(stores.db.databaseName).toBe('invoicing_test');
      expect(stores.auditSink).toBeInstanceOf(MongoAuditSink);
      expect(stores.approvalStore).toBeInstanceOf(MongoApprovalStore);
      expect(stores.approvalStore.capabilities.transactional).toBe(false);
      expect(stores.dataKeyStore).toBeInstanceOf(MongoDataKeyStore);
      expect(stores.snapshotRecords).toBeInstanceOf(MongoSnapshotRecordStore);
    } finally {
      await stores.close();
    }
  });

  it('creates the indexes at start, before serving: an unreachable MongoDB stops the start with a retryable store error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'invoicing-mongo-start-'));
    try {
      const error = await startApp({
        env: { ...KEK, DATA_DIR: dir, MONGO_URL: UNREACHABLE },
        config: { port: 0 },
      }).then(
        (app) => app.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(isTenantryError(error), String(error)).toBe(true);
      expect(isTenantryError(error) && error.retryable).toBe(true);
      expect((error as { code: string }).code).toMatch(/_STORE_UNAVAILABLE$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** Run test/workers/start-app.ts with `env`, failing on any resolution of `mongodb`. */
function startChild(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@tenantry/source',
      '--import',
      tsx,
      '--import',
      pathToFileURL(here('./workers/no-mongodb.mjs')).href,
      here('./workers/start-app.ts'),
    ],
    {
      cwd: here('..'),
      env: {
        ...process.env,
        DATABASE_URL: '',
        REDIS_URL: '',
        MONGO_URL: '',
        S3_BUCKET: '',
        DATA_DIR: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((done) => child.once('exit', (code) => done({ code, output })));
}

describe('without MONGO_URL the mongodb driver is never loaded', () => {
  it('the default (embedded PGlite) starts and stops without resolving mongodb', async () => {
    const r = await startChild({ PORT: '0' });
    expect(r.output).toContain('started; mongo stores: no');
    expect(r.code, r.output).toBe(0);
  }, 120_000);

  it('control: with MONGO_URL the same guard stops the start at the driver import (so the guard works)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'invoicing-mongo-guard-'));
    try {
      const r = await startChild({ ...KEK, PORT: '0', DATA_DIR: dir, MONGO_URL: UNREACHABLE });
      expect(r.code).not.toBe(0);
      expect(r.output).toContain('the mongodb driver was loaded');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  describe.skipIf(!hasBackend('postgres'))(`on PostgreSQL only${skipLabel('postgres')}`, () => {
    const db = useTestDatabase();
    it('DATABASE_URL alone starts and stops without resolving mongodb', async () => {
      const r = await startChild({ ...KEK, PORT: '0', DATABASE_URL: db.url(), SEED_DEMO: 'false' });
      expect(r.output).toContain('started; mongo stores: no');
      expect(r.code, r.output).toBe(0);
    }, 120_000);
  });
});

// The Mongo approval store calls an action handler at least once (a lease reclaimed after a crash
// between the handler's commit and the EXECUTED mark runs it again): the void handler must add no
// second credit note. Proven on the embedded database, calling the handler the app registers.
describe('the invoice.void handler is idempotent', () => {
  let app: RunningApp;
  const handlers = new Map<string, ActionHandler>();
  beforeAll(async () => {
    app = await startApp({ env: {}, config: { port: 0 }, rateLimit: false });
    // Only to get hold of the handlers the app registers (the engine itself is not under test here).
    const capture = {
      registerAction: (name: string, handler: ActionHandler) => void handlers.set(name, handler),
      registerResource: () => undefined,
    } as unknown as ApprovalEngine;
    registerApprovalActions(app.services, capture);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  it('a second run of the same void finds the invoice VOID with its credit note and adds nothing', async () => {
    const clerk = await ApiClient.signIn(app, 'clerk@acme.test');
    const inv = await clerk.ok<DocumentRow>(
      'POST',
      '/ops/invoices',
      { customerId: 'acme-tyrell', amountCents: 777, issueDate: '2026-09-01' },
      201,
    );
    const context = {
      tenantId: 'acme',
      request: {
        id: 'req-idem',
        makerId: 'clerk',
        justification: 'twice',
        resource: { type: 'invoice', id: inv.id },
      },
      payload: null,
      idempotencyKey: 'req-idem',
      transaction: undefined,
    } as unknown as ActionContext;
    const voidIt = handlers.get('invoice.void')!;
    await runAsTenant({ tenantId: 'acme', actor: { id: 'manager' } }, async () => {
      await voidIt.execute(context);
      await voidIt.execute(context);
    });
    const credits = (await clerk.ok<DocumentRow[]>('GET', '/ops/credit-notes')).filter(
      (c) => c.creditsDocumentId === inv.id,
    );
    expect(credits).toHaveLength(1);
    expect((await clerk.ok<DocumentRow>('GET', `/ops/invoices/${inv.id}`)).status).toBe('VOID');
  }, 120_000);
});
