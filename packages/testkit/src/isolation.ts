import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { type BackendKind, backendStatus, directPgUrl, pgVia, runDatabasePrefix } from './backends.js';

/** A short random id for per-file databases, prefixes and roles. */
export function uniqueId(prefix = 'tk'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Whether a backend is available to this test worker, and why not. */
export function hasBackend(kind: BackendKind): boolean {
  return backendStatus(kind).available;
}

/** A label naming why a suite is skipped, for `describe.skipIf(...)` titles: visible in every report. */
export function skipLabel(kind: BackendKind): string {
  const s = backendStatus(kind);
  return s.available ? '' : ` [SKIPPED: ${kind} unavailable: ${s.reason}]`;
}

/** Replace the database name in a PostgreSQL URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Create a fresh PostgreSQL database for the calling test file and drop it afterwards. Returns a
 * getter for its URL (valid inside tests and hooks) and for the server's own URL of the same database
 * (`directUrl`: differs only when the suites run through the pooler, `PG_VIA=pgbouncer`; use it for
 * what needs a session, like a LISTEN connection). Files get separate databases, so they run in
 * parallel without touching each other.
 * @example const db = useTestDatabase(); it('...', async () => { const pool = new pg.Pool({ connectionString: db.url() }); });
 */
export function useTestDatabase(): { url: () => string; name: () => string; directUrl: () => string } {
  let name = '';
  let url = '';
  beforeAll(async () => {
    const status = backendStatus('postgres');
    if (!status.available) throw new Error(`postgres unavailable: ${status.reason}`);
    name = uniqueId(runDatabasePrefix());
    const admin = new pg.Client({ connectionString: directPgUrl(status.url) });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    url = withDatabase(status.url, name);
  });
  afterAll(async () => {
    if (!name) return;
    const status = backendStatus('postgres');
    if (!status.available) return;
    const admin = new pg.Client({ connectionString: directPgUrl(status.url) });
    await admin.connect();
    try {
      // Not WITH (FORCE) on a direct run: terminating a pool's idle connection that a test left open
      // raises an unhandled 'error' in that test's process. Through the pooler, the server connections
      // are the pooler's (idle ones stay open for server_idle_timeout) and the tests' clients are
      // connected to the pooler, which survives losing them: FORCE. A database still in use (55006)
      // is dropped by the global teardown, after every test process has exited.
      await admin.query(`DROP DATABASE IF EXISTS ${name}${pgVia() === 'pgbouncer' ? ' WITH (FORCE)' : ''}`);
    } catch (error) {
      if ((error as { code?: string }).code !== '55006') throw error;
    } finally {
      await admin.end();
    }
  });
  return { url: () => url, name: () => name, directUrl: () => directPgUrl(url) };
}

/**
 * A Redis key prefix unique to the calling test file (`tk_<id>:`); keys under it are deleted afterwards.
 * @example const redis = useRedisPrefix(); it('...', () => client.set(`${redis.prefix()}x`, 1));
 */
export function useRedisPrefix(): { prefix: () => string; url: () => string } {
  let prefix = '';
  let url = '';
  beforeAll(() => {
    const status = backendStatus('redis');
    if (!status.available) throw new Error(`redis unavailable: ${status.reason}`);
    prefix = `${uniqueId('tk')}:`;
    url = status.url;
  });
  afterAll(async () => {
    if (!prefix) return;
    const { Redis } = await import('ioredis');
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await client.del(...keys);
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
  });
  return { prefix: () => prefix, url: () => url };
}

/**
 * A MongoDB database name unique to the calling test file, dropped afterwards.
 */
export function useMongoDatabase(): { url: () => string; name: () => string } {
  let name = '';
  let url = '';
  beforeAll(() => {
    const status = backendStatus('mongo');
    if (!status.available) throw new Error(`mongo unavailable: ${status.reason}`);
    name = uniqueId('tk');
    url = status.url;
  });
  afterAll(async () => {
    if (!name) return;
    const { MongoClient } = await import('mongodb');
    const client = new MongoClient(url);
    try {
      await client.db(name).dropDatabase();
    } finally {
      await client.close();
    }
  });
  return { url: () => url, name: () => name };
}
