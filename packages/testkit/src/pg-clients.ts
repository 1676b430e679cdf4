/**
 * The PostgreSQL client kinds Tenantry's backends are proven through: node-postgres as it is, and the
 * adapters of `@tenantry/core/kysely`, `/drizzle` and `/postgres-js`. PostgreSQL conformance suites and
 * torture tests run once per kind by mapping over {@link PG_CLIENT_KINDS} (never by copying a suite).
 */
import type { PgExecutor, PgPoolLike } from '@tenantry/core';
import { fromDrizzle } from '@tenantry/core/drizzle';
import { fromKysely } from '@tenantry/core/kysely';
import { fromPostgresJs } from '@tenantry/core/postgres-js';
import { sql as drizzleSql } from 'drizzle-orm';
import { type NodePgDatabase, drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { type PostgresJsDatabase, drizzle as drizzlePostgresJs } from 'drizzle-orm/postgres-js';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import postgres from 'postgres';

/** An open client of one kind: the pool every backend takes, and transactions the library's own way. */

/**
 * postgres.js prepares every statement under a name of its own by default. Behind a transaction-mode
 * pooler those names land on whichever server connection serves the next transaction, so postgres.js's
 * own documentation requires `prepare: false` there (as our READMEs do); the suites run through
 * PgBouncer configure it the way a user must.
 */
function postgresJsPrepare(): boolean {
  return process.env.PG_VIA !== 'pgbouncer';
}

export interface OpenPgClient {
  /** What the backends take where they take a `pg` Pool (the pool itself for node-postgres). */
  readonly pool: PgPoolLike;
  /**
   * Run `fn` in a transaction opened by the library itself (`BEGIN` on a pg client, Kysely's
   * `db.transaction()`, Drizzle's `db.transaction()`, postgres.js `sql.begin()`); `tx` is the
   * adapter's executor on it, `handle` the library's own handle on the same transaction (for
   * {@link PgClientKindCase.nativeRows}). Commits when `fn` resolves, rolls back when it throws.
   */
  transaction<R>(
    fn: (tx: PgExecutor & { getTransactionStatus(): string | null }, handle: unknown) => Promise<R>,
  ): Promise<R>;
  close(): Promise<void>;
}

/** One client kind. */
export interface PgClientKindCase {
  /** Shown in suite titles: `node-postgres`, `kysely`, `drizzle (node-postgres)`, `drizzle (postgres.js)`, `postgres.js`. */
  readonly name: string;
  open(url: string, options?: { max?: number }): OpenPgClient;
  /**
   * Run raw SQL through the library's own handle (what a tenant unit of work hands back): Kysely's
   * `sql.raw(text).execute(trx)`, Drizzle's `tx.execute(sql.raw(text))`, postgres.js `tx.unsafe(text)`.
   * Proves the handle is the library's and runs in the unit's transaction.
   */
  nativeRows(handle: unknown, text: string): Promise<Array<Record<string, unknown>>>;
}

const status = (tx: PgExecutor): PgExecutor & { getTransactionStatus(): string | null } =>
  tx.getTransactionStatus
    ? (tx as PgExecutor & { getTransactionStatus(): string | null })
    : Object.assign(Object.create(tx) as PgExecutor, { getTransactionStatus: () => 'T' });

/**
 * Idle clients get 57P01 when a test database is dropped WITH (FORCE), and checked-out ones emit 'error'
 * when a torture test terminates their backend: listen, so neither crashes the process (the failing
 * query reports it).
 */
const silent = (p: pg.Pool): pg.Pool => {
  p.on('error', () => undefined);
  p.on('connect', (c) => c.on('error', () => undefined));
  return p;
};

export const PG_CLIENT_KINDS: readonly PgClientKindCase[] = [
  {
    name: 'node-postgres',
    open(url, { max = 8 } = {}) {
      const pool = silent(new pg.Pool({ connectionString: url, max }));
      return {
        pool,
        async transaction(fn) {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            const r = await fn(c as unknown as PgExecutor & { getTransactionStatus(): string | null }, c);
            await c.query('COMMIT');
            return r;
          } catch (e) {
            await c.query('ROLLBACK').catch(() => undefined);
            throw e;
          } finally {
            c.release();
          }
        },
        close: () => pool.end(),
      };
    },
    nativeRows: async (handle, text) => (await (handle as pg.PoolClient).query(text)).rows,
  },
  {
    name: 'kysely',
    open(url, { max = 8 } = {}) {
      const db = new Kysely<Record<string, never>>({
        dialect: new PostgresDialect({ pool: silent(new pg.Pool({ connectionString: url, max })) }),
      });
      return {
        pool: fromKysely(db),
        transaction: (fn) => db.transaction().execute((trx) => fn(status(fromKysely(trx)), trx)),
        close: () => db.destroy(),
      };
    },
    nativeRows: async (handle, text) =>
      (await sql.raw<Record<string, unknown>>(text).execute(handle as Transaction<Record<string, never>>))
        .rows,
  },
  {
    name: 'drizzle (node-postgres)',
    open(url, { max = 8 } = {}) {
      const pool = silent(new pg.Pool({ connectionString: url, max }));
      const db = drizzlePg(pool);
      return {
        pool: fromDrizzle(db),
        transaction: (fn) => db.transaction((tx) => fn(status(fromDrizzle(tx)), tx)),
        close: () => pool.end(),
      };
    },
    nativeRows: async (handle, text) =>
      (await (handle as NodePgDatabase).execute(drizzleSql.raw(text))).rows as Array<Record<string, unknown>>,
  },
  {
    name: 'drizzle (postgres.js)',
    open(url, { max = 8 } = {}) {
      const sql = postgres(url, { max, prepare: postgresJsPrepare(), onnotice: () => undefined });
      const db = drizzlePostgresJs(sql);
      return {
        pool: fromDrizzle(db),
        transaction: (fn) => db.transaction((tx) => fn(status(fromDrizzle(tx)), tx)),
        close: () => sql.end({ timeout: 5 }),
      };
    },
    nativeRows: async (handle, text) => [
      ...((await (handle as PostgresJsDatabase).execute(drizzleSql.raw(text))) as Iterable<
        Record<string, unknown>
      >),
    ],
  },
  {
    name: 'postgres.js',
    open(url, { max = 8 } = {}) {
      const sql = postgres(url, { max, prepare: postgresJsPrepare(), onnotice: () => undefined });
      return {
        pool: fromPostgresJs(sql),
        transaction: (fn) => sql.begin((tx) => fn(status(fromPostgresJs(tx)), tx)) as Promise<never>,
        close: () => sql.end({ timeout: 5 }),
      };
    },
    nativeRows: async (handle, text) => [...(await (handle as postgres.TransactionSql).unsafe(text))],
  },
];
