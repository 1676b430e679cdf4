import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

/** The database the app runs on: a real PostgreSQL, or PGlite served over its socket server. */
export interface Database {
  /** The `pg` pool every part of the app uses: the same driver code path on both. */
  readonly pool: pg.Pool;
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
export async function openDatabase(url: string | undefined, dataDir?: string): Promise<Database> {
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 20 });
    return { pool, kind: 'postgres', url, close: () => pool.end() };
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
    kind: 'embedded',
    url: socketUrl,
    async close() {
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}
