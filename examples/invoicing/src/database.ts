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
 * Open the database. With a URL, a `pg` pool on it. Without one, an in-memory PGlite behind
 * `PGLiteSocketServer` on a free loopback port, reached through the same `pg` pool: PGlite runs one
 * query at a time, and the socket server keeps a transaction's statements together, so concurrent
 * transactions are serialised (see the README for what that cannot prove).
 */
export async function openDatabase(url: string | undefined): Promise<Database> {
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 20 });
    return { pool, kind: 'postgres', url, close: () => pool.end() };
  }
  const db = await PGlite.create();
  const maxConnections = 8;
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
  await server.start();
  const conn = server.getServerConn(); // host:port
  const socketUrl = `postgres://postgres@${conn}/postgres?sslmode=disable`;
  const pool = new pg.Pool({ connectionString: socketUrl, max: maxConnections - 1 });
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
