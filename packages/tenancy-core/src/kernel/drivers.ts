/**
 * Small structural types for the database clients Tenantry's backends accept, so no package imports
 * a driver at run time (as kysely's dialects do). A `pg` Pool/PoolClient/Client and an ioredis
 * Redis/Cluster satisfy them as they are.
 */

/** A query result as `pg` returns it. */
export interface PgQueryResult<R> {
  rows: R[];
  rowCount: number | null;
}

/** Anything that runs a parameterised query: a `pg` Client, PoolClient or Pool. */
export interface PgQueryable {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PgQueryResult<R>>;
}

/** A connection checked out of a pool; `release(err)` destroys it instead of returning it. */
export interface PgPoolClientLike extends PgQueryable {
  release(destroy?: boolean | Error): void;
}

/**
 * What a unit of work on a `pg` pool hands its callback: the connection's `query`, refused once the
 * unit ended, and the transaction status, so the handle is the `{ tx }` that `@tenantry/sequencer`
 * and other in-transaction APIs take as it is.
 */
export interface PgUnitOfWorkClient extends PgPoolClientLike {
  /**
   * `'T'` while the unit is open (its transaction was begun before the callback ran; on a pipelined
   * client the `BEGIN` may still be on its way, so pg's own status byte would still read `'I'`), `'E'`
   * when pg reports the transaction failed, `null` once the unit has ended or the connection is gone.
   */
  getTransactionStatus(): string | null;
}

/** A `pg` Pool. */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgPoolClientLike>;
}

/**
 * The PostgreSQL executor port: run parameterised SQL (`$1`, `$2`, … placeholders) on a connection or
 * inside a transaction and answer `{ rows, rowCount }`. It is {@link PgQueryable} (a `pg` Client,
 * PoolClient or Pool is one as it is) plus, optionally, the transaction status: every store written
 * against `PgQueryable` takes any executor. The adapters of `@tenantry/core/kysely`, `/drizzle` and
 * `/postgres-js` turn the clients of those libraries into one (as a kysely dialect's `Driver` turns a
 * driver into connections).
 *
 * - `query(text, values)`: a statement with no values may hold several statements separated by `;`
 *   (simple protocol); `rowCount` is the number of rows affected (or returned by a `SELECT`), `null`
 *   when the client does not say.
 * - `getTransactionStatus()`: `'T'` inside a transaction block, `'E'` in a failed one, `'I'` outside
 *   any, `null` when the connection is gone (`pg`'s own); an executor bound to a library's transaction
 *   (a Kysely `Transaction`, a Drizzle transaction, a postgres.js `begin` callback's `sql`) answers `'T'`.
 */
export interface PgExecutor extends PgQueryable {
  getTransactionStatus?(): string | null;
  /**
   * Set by the adapters (absent on a `pg` client): the library underneath. `query` then takes text and
   * values only (no `pg` query config objects such as named prepared statements).
   */
  readonly clientKind?: PgClientKind;
}

/** An executor bound to an open transaction (what the adapters answer for a library's transaction). */
export interface PgTransactionExecutor extends PgExecutor {
  getTransactionStatus(): string | null;
}

/** How a unit of work asks an adapter to open its transaction. */
export interface PgTransactionMode {
  /** @default 'read committed' */
  readonly isolation: 'read committed' | 'repeatable read' | 'serializable';
  /** Open the transaction `READ ONLY`. */
  readonly readOnly: boolean;
}

/** The client libraries an adapter can come from. */
export type PgClientKind = 'node-postgres' | 'kysely' | 'drizzle' | 'postgres.js';

/**
 * A pool-level client made by an adapter (`fromKysely(db)`, `fromDrizzle(db)`, `fromPostgresJs(sql)`):
 * a {@link PgPoolLike}, so every PostgreSQL backend takes it where it takes a `pg` Pool, that also
 * opens a transaction the library's own way and hands back the library's own handle `H` (a Kysely
 * `Transaction`, a Drizzle transaction, a postgres.js `TransactionSql`). `createTenantUnitOfWork` uses
 * this to give a Kysely user a Kysely transaction.
 */
export interface PgTransactor<H> extends PgPoolLike, PgExecutor {
  /** Which library the adapter wraps. */
  readonly clientKind: PgClientKind;
  /**
   * Run `fn` inside a new transaction opened with `mode`: `tx` runs SQL in it, `handle` is the library's
   * own handle on it (the same transaction). Commits when `fn` resolves, rolls back when it throws.
   */
  transaction<R>(mode: PgTransactionMode, fn: (tx: PgExecutor, handle: H) => Promise<R>): Promise<R>;
  /**
   * A view of `handle` whose queries fail with `UNIT_OF_WORK_ENDED` once `ended()` answers true (the unit
   * of work hands this out, so a query kept in a closure cannot run after the unit). Adapters that
   * cannot intercept their library's queries return `handle` itself.
   */
  scope?(handle: H, ended: () => boolean, tenantId: string): H;
}

/**
 * The subset of ioredis (`Redis` or `Cluster`) that Tenantry's Redis backends use. Scripts are run
 * with `eval`/`evalsha`, and every key a script touches shares one hash tag, so they work on Cluster.
 */
export interface RedisLike {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  script?(subcommand: 'LOAD', script: string): Promise<unknown>;
  get(key: string): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
}
