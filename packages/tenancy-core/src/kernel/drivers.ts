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

/** A `pg` Pool. */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgPoolClientLike>;
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
