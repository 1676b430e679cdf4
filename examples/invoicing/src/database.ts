import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { PgPoolClientLike, PgPoolLike, PgQueryResult } from '@tenantry/core';
import pg from 'pg';
import { APP_ROLE } from './schema.js';

/** The database the app runs on: a real PostgreSQL, or PGlite served over its socket server. */
export interface Database {
  /**
   * The privileged pool (the connecting user, a superuser in the demo): migrations, seed and
   * platform-level work (partners, tenants, users, quotas; the audit log and
   * data keys too, unless `MONGO_URL` keeps them in MongoDB), inside `runAsSystem` or a
   * request. Row-level security does not apply to it.
   */
  readonly pool: pg.Pool;
  /**
   * The tenant pool: every connection acts as the application role `invoicing_app` (NOSUPERUSER
   * NOBYPASSRLS), so row-level security applies. Give it to `createTenantUnitOfWork`. On PostgreSQL
   * with `appUrl`, a pool of its own that logs in as that role (or a member of it); otherwise
   * `SET ROLE invoicing_app` on every checkout (see {@link actingAs}).
   */
  readonly appPool: PgPoolLike;
  /** `embedded` (PGlite) or `postgres`. */
  readonly kind: 'embedded' | 'postgres';
  /** A connection string for tools and tests (the socket server's on PGlite). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Open the database. With a URL, a `pg` pool on it. Without one, PGlite (in memory, or in
 * `<dataDir>/pglite` when `dataDir` is given, so it survives a restart) behind `PGLiteSocketServer` on a free loopback port, reached through the same `pg` pool: PGlite runs one
 * query at a time: the pool has one connection, so requests queue for it and transactions run one
 * after another (see the README for what that cannot prove).
 */
export async function openDatabase(
  url: string | undefined,
  dataDir?: string,
  appUrl?: string,
): Promise<Database> {
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // A LOGIN application role: its connections never hold more rights than the role's. Without one,
    // a pool of the privileged user that switches role on checkout (separate connections from `pool`).
    const app = new pg.Pool({ connectionString: appUrl ?? url, max: 10 });
    const appPool = appUrl ? app : actingAs(app, APP_ROLE, false);
    return {
      pool,
      appPool,
      kind: 'postgres',
      url,
      async close() {
        await app.end();
        await pool.end();
      },
    };
  }
  let dir: string | undefined;
  if (dataDir) {
    dir = join(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
  }
  const db = await PGlite.create(dir);
  // A few connections for tools (psql, tests); the app itself uses one. Every connection shares
  // PGlite's single session, and the socket server interleaves their messages outside transactions,
  // so two connections' unnamed statements and portals could overwrite each other: one at a time.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  const conn = server.getServerConn(); // host:port
  const socketUrl = `postgres://postgres@${conn}/postgres?sslmode=disable`;
  const pool = new pg.Pool({ connectionString: socketUrl, max: 1 });
  return {
    pool,
    // The same single connection: PGlite has one session, so a second pool's `SET ROLE` would change
    // the role under the privileged pool's statements. The role is reset when the connection goes
    // back, before the privileged side can check it out.
    appPool: actingAs(pool, APP_ROLE, true),
    kind: 'embedded',
    url: socketUrl,
    async close() {
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}

/**
 * A pool whose connections act as `role`: each checkout awaits `SET ROLE <role>` before handing the
 * connection out (fail-closed: a failed `SET ROLE` destroys the connection and throws, where a
 * handler of pg's synchronous `acquire` event could not stop the checkout). Core's unit of work
 * ends each unit with `RESET ROLE`, so the role is set again on every checkout; its role check (once
 * per physical connection) runs after this and sees `role`.
 * @param base the pool of the privileged user (a superuser or a member of `role`)
 * @param role a plain identifier (a constant here, never input)
 * @param resetOnRelease `RESET ROLE` before the connection returns to `base` (PGlite, where `base`
 *   is also the privileged pool), for work that does not go through the unit of work
 */
export function actingAs(base: pg.Pool, role: string, resetOnRelease: boolean): PgPoolLike {
  const setRole = `SET ROLE ${role}`;
  async function connect(): Promise<PgPoolClientLike> {
    const client = await base.connect();
    try {
      await client.query(setRole);
    } catch (error) {
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    if (!resetOnRelease) return client;
    // pg assigns `release` afresh on every checkout, so wrapping it affects this checkout only.
    const release = client.release.bind(client);
    client.release = (err?: Error | boolean) => {
      if (err) return release(err);
      client.query('RESET ROLE').then(
        () => release(),
        (e: Error) => release(e),
      );
    };
    return client;
  }
  return {
    connect,
    async query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PgQueryResult<R>> {
      const client = await connect();
      try {
        return await client.query<R>(text, values);
      } finally {
        client.release();
      }
    },
  };
}
