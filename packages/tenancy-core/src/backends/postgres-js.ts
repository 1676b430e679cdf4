import type { Sql, TransactionSql } from 'postgres';
import type {
  PgExecutor,
  PgPoolClientLike,
  PgQueryResult,
  PgTransactionMode,
  PgTransactor,
} from '../kernel/drivers.js';
import { TenantryError } from '../kernel/errors.js';
import { requireMethods } from '../kernel/validation.js';

/** What postgres.js answers: an array of rows carrying `count` and `columns` (or, for several statements, one per statement). */
type RowList = unknown[] & { count?: number | null; columns?: ReadonlyArray<{ name: string; type: number }> };

/** `timestamp` (1114) and `timestamptz` (1184): `pg` answers them as `Date`s, and so does the port. */
const TIMESTAMP_TYPES = new Set([1114, 1184]);

/**
 * Timestamps as `Date`s where the client answered text: Drizzle's postgres.js driver turns postgres.js'
 * date parsing off on the client it is given. Plain postgres.js already answers `Date`s (untouched).
 */
function datesAsPg(r: RowList): void {
  const first = r[0] as Record<string, unknown> | undefined;
  if (first === undefined || r.columns === undefined) return;
  const names = r.columns
    .filter((c) => TIMESTAMP_TYPES.has(c.type) && typeof first[c.name] === 'string')
    .map((c) => c.name);
  if (names.length === 0) return;
  for (const row of r as Array<Record<string, unknown>>) {
    for (const n of names) if (typeof row[n] === 'string') row[n] = new Date(row[n] as string);
  }
}

/** The part of a postgres.js `sql` (or a transaction's or reserved connection's) the adapter uses. */
interface UnsafeRunner {
  unsafe(text: string, values?: unknown[]): PromiseLike<RowList>;
}

const isRowList = (r: unknown): r is RowList => Array.isArray(r) && 'count' in r;

/**
 * A postgres.js error with `pg`'s field names, which the port promises (stores map errors by them):
 * `constraint`, `table`, `column`, `schema`, and SQLSTATE `08006` for a lost or closed connection
 * (postgres.js says `CONNECTION_CLOSED`, `CONNECT_TIMEOUT`, …; its own code stays in `errno`).
 */
function asPgError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const e = error as Record<string, unknown>;
  for (const [pgName, jsName] of [
    ['constraint', 'constraint_name'],
    ['table', 'table_name'],
    ['column', 'column_name'],
    ['schema', 'schema_name'],
  ] as const) {
    if (e[pgName] === undefined && typeof e[jsName] === 'string') e[pgName] = e[jsName];
  }
  if (typeof e.code === 'string' && /^(CONNECTION_|CONNECT_TIMEOUT)/.test(e.code)) {
    e.errno = e.code;
    e.code = '08006';
  }
  return error;
}

// Dates as ISO text: postgres.js serialises them itself, but a client configured by Drizzle does not.
const param = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : v);

/** Run one statement (or, with no values, several: the last one's rows are answered). */
export const runPostgresJs = async <R>(
  sql: UnsafeRunner,
  text: string,
  values?: unknown[],
): Promise<PgQueryResult<R>> => {
  let r: RowList;
  try {
    r = await sql.unsafe(text, values === undefined ? [] : values.map(param));
  } catch (error) {
    throw asPgError(error);
  }
  // Several statements (simple protocol): one result per statement; answer the last, as `pg` users expect its rows.
  if (r.count === undefined && r.length > 0 && r.every(isRowList)) {
    r = r[r.length - 1] as RowList;
  }
  datesAsPg(r);
  return { rows: [...r] as R[], rowCount: typeof r.count === 'number' ? r.count : r.length };
};

/** Reserve one of a postgres.js client's connections (`sql.reserve()`, postgres 3.4+) until `release()`. */
export async function reservePostgresJs(sql: unknown): Promise<PgPoolClientLike> {
  const client = sql as { reserve?: () => Promise<{ release(): void }> };
  if (typeof client.reserve !== 'function') {
    throw new TenantryError(
      'VALIDATION_FAILED',
      'This postgres.js client has no sql.reserve(); use postgres 3.4 or later',
    );
  }
  const reserved = await client.reserve();
  let released = false;
  return {
    query: <R>(text: string, values?: unknown[]) =>
      released
        ? Promise.reject(
            new TenantryError('VALIDATION_FAILED', 'A query was issued on a connection after release()'),
          )
        : runPostgresJs<R>(reserved as unknown as UnsafeRunner, text, values),
    release: () => {
      if (released) return;
      released = true;
      reserved.release();
    },
  };
}

/** A postgres.js `sql` as a pool for Tenantry's PostgreSQL backends, with postgres.js transactions for units of work. */
export interface PostgresJsPgClient extends PgTransactor<TransactionSql> {
  readonly clientKind: 'postgres.js';
}

/**
 * Adapt a postgres.js client to Tenantry's executor port:
 *
 * - `fromPostgresJs(tx)` (the `sql` a `sql.begin(…)` callback gets): an executor whose statements run
 *   in that transaction, e.g. `sequencer.next(series, { tx: fromPostgresJs(tx) })`;
 *   `getTransactionStatus()` answers `'T'`.
 * - `fromPostgresJs(sql)` (from `postgres(url)`): a pool (`PgPoolLike`) for every PostgreSQL backend
 *   (`connect()` reserves a connection with `sql.reserve()`), and `createTenantUnitOfWork(fromPostgresJs(sql))`
 *   hands `run`'s callback the `TransactionSql` of a `sql.begin(…)`.
 *
 * Statements run with `sql.unsafe(text, values)`; a statement without values may hold several (the
 * last one's rows are answered). Rows come back as postgres.js types them (`int8` and `numeric` as
 * strings, as with `pg`). A reserved connection goes back to the pool on `release()`, even when asked
 * to destroy it.
 * @throws ValidationError `VALIDATION_FAILED` when `sql` is not a postgres.js client
 * @example
 * const uow = createTenantUnitOfWork(fromPostgresJs(sql));
 * const rows = await runAsTenant(ctx, () => uow.run((tx) => tx`SELECT * FROM invoices`));
 */
export function fromPostgresJs(sql: TransactionSql): PgExecutor;
export function fromPostgresJs(sql: Sql): PostgresJsPgClient;
export function fromPostgresJs(sql: Sql | TransactionSql): PgExecutor | PostgresJsPgClient {
  requireMethods(sql, ['unsafe'], 'fromPostgresJs', 'sql');
  const runner = sql as unknown as UnsafeRunner;
  const root = sql as Partial<Sql>;
  if (typeof root.begin !== 'function' || typeof (sql as { savepoint?: unknown }).savepoint === 'function') {
    return Object.freeze({
      query: <R>(text: string, values?: unknown[]) => runPostgresJs<R>(runner, text, values),
      getTransactionStatus: () => 'T',
    });
  }
  const client = sql as Sql;
  return Object.freeze({
    clientKind: 'postgres.js' as const,
    query: <R>(text: string, values?: unknown[]) => runPostgresJs<R>(runner, text, values),
    connect: () => reservePostgresJs(client),
    transaction<R>(
      mode: PgTransactionMode,
      fn: (tx: PgExecutor, handle: TransactionSql) => Promise<R>,
    ): Promise<R> {
      const options = `isolation level ${mode.isolation}${mode.readOnly ? ' read only' : ''}`;
      return client.begin(options, (tx) =>
        fn({ query: (text, values) => runPostgresJs(tx as unknown as UnsafeRunner, text, values) }, tx),
      ) as Promise<R>;
    },
  });
}
