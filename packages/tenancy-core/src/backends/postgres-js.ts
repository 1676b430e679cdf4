import type { Sql, TransactionSql } from 'postgres';
import type {
  PgClientKind,
  PgExecutor,
  PgTransactionExecutor,
  PgPoolClientLike,
  PgQueryResult,
  PgTransactionMode,
  PgTransactor,
} from '../kernel/drivers.js';
import { TenantryError } from '../kernel/errors.js';
import { requireMethods } from '../kernel/validation.js';

/** What postgres.js answers: an array of rows carrying `count` and `columns` (or, for several statements, one per statement). */
type RowList = unknown[] & { count?: number | null; columns?: ReadonlyArray<{ name: string; type: number }> };

/** The part of a postgres.js `sql` (or a transaction's or reserved connection's) the adapter uses. */
interface UnsafeRunner {
  unsafe(text: string, values?: unknown[]): PromiseLike<RowList>;
}

const isRowList = (r: unknown): r is RowList => Array.isArray(r) && 'count' in r;

/** `timestamp`/`timestamptz` (1114, 1184) and their arrays (1115, 1185): `pg` answers `Date`s, and so does the port. */
const TIMESTAMP_TYPES = new Set([1114, 1184]);
const TIMESTAMP_ARRAY_TYPES = new Set([1115, 1185]);

/** A one-dimensional timestamp array literal (`{"2026-01-01 00:00:00+00",NULL}`) as `Date`s. */
const timestampArray = (text: string): Array<Date | null> =>
  text === '{}'
    ? []
    : text
        .slice(1, -1)
        .split(',')
        .map((x) => (x === 'NULL' ? null : new Date(x.replace(/^"|"$/g, ''))));

/**
 * Timestamps as `Date`s where the client answered text: Drizzle's postgres.js driver turns postgres.js'
 * date parsing off on the client it is given. Plain postgres.js already answers `Date`s (untouched).
 */
function datesAsPg(r: RowList): void {
  const first = r[0] as Record<string, unknown> | undefined;
  if (first === undefined || r.columns === undefined) return;
  const columns = r.columns.filter(
    (c) =>
      (TIMESTAMP_TYPES.has(c.type) || TIMESTAMP_ARRAY_TYPES.has(c.type)) && typeof first[c.name] === 'string',
  );
  if (columns.length === 0) return;
  for (const row of r as Array<Record<string, unknown>>) {
    for (const { name, type } of columns) {
      const v = row[name];
      if (typeof v === 'string') row[name] = TIMESTAMP_TYPES.has(type) ? new Date(v) : timestampArray(v);
    }
  }
}

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

/**
 * A value encoded as `pg` encodes it, so a store behaves the same through either driver: dates as ISO
 * text (a postgres.js client configured by Drizzle does not serialise them), arrays as PostgreSQL array
 * literals (postgres.js has no serialiser for some array types, e.g. `timestamptz[]`, `jsonb[]`), plain
 * objects as JSON. Strings, numbers, booleans, `null` and byte buffers pass through.
 */
function param(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? v.toString() : v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return arrayLiteral(v);
  if (ArrayBuffer.isView(v)) return v;
  return JSON.stringify(v);
}

function arrayLiteral(xs: readonly unknown[]): string {
  const parts = xs.map((x) => {
    if (x === null || x === undefined) return 'NULL';
    if (Array.isArray(x)) return arrayLiteral(x);
    const text = ArrayBuffer.isView(x)
      ? `\\x${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex')}`
      : String(param(x));
    return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${parts.join(',')}}`;
}

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

const JSON_TYPES = [114, 3802];

/**
 * A string given for a `json`/`jsonb` parameter is JSON text, as with `pg` (our stores pass
 * `JSON.stringify`ed values); postgres.js would stringify it again into a JSON string. Only strings are
 * affected, on this client (Drizzle's postgres.js driver does the same for every value).
 */
export function jsonTextAsPg(sql: unknown): void {
  const serializers = (sql as { options?: { serializers?: Record<number, (x: unknown) => string> } } | null)
    ?.options?.serializers;
  if (serializers === undefined) return;
  for (const oid of JSON_TYPES) {
    const original = serializers[oid];
    if (original === undefined || (original as { tenantryJsonText?: true }).tenantryJsonText) continue;
    const wrapped = (x: unknown): string => (typeof x === 'string' ? x : original(x));
    serializers[oid] = Object.assign(wrapped, { tenantryJsonText: true as const });
  }
}

/** Reserve one of a postgres.js client's connections (`sql.reserve()`, postgres 3.4+) until `release()`. */
export async function reservePostgresJs(
  sql: unknown,
  clientKind: PgClientKind = 'postgres.js',
): Promise<PgPoolClientLike & PgExecutor> {
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
    clientKind,
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

const QUERY_METHODS = new Set<PropertyKey>(['unsafe', 'file']);

/** What a postgres.js `Query` holds: it runs when `handle()` calls `handler` (on then/execute/cursor/forEach…). */
interface LazyQuery {
  handler: ((q: LazyQuery) => unknown) & { debug?: unknown };
  reject(error: unknown): void;
}

const isLazyQuery = (q: unknown): q is LazyQuery =>
  typeof q === 'object' &&
  q !== null &&
  typeof (q as Partial<LazyQuery>).handler === 'function' &&
  typeof (q as Partial<LazyQuery>).reject === 'function';

/**
 * The unit of work's view of a postgres.js transaction: `tx\`…\``, `tx.unsafe`, `tx.file` and
 * `tx.savepoint` fail with `UNIT_OF_WORK_ENDED` once the unit has ended (helpers such as `tx.json` and
 * everything else pass through). postgres.js queries are lazy: one built inside the unit but first
 * awaited (`then`, `execute`, `cursor`, `forEach`…) after it ended is refused too, when it would run,
 * and never reaches the connection (whose next holder may be another tenant). A savepoint's `sql`
 * gets the same view.
 */
export function endGuard(handle: TransactionSql, ended: () => boolean, tenantId: string): TransactionSql {
  const endedError = (): TenantryError =>
    new TenantryError('UNIT_OF_WORK_ENDED', 'A query was issued on a unit of work that has ended', {
      details: { tenantId },
    });
  const refuse = (): never => {
    throw endedError();
  };
  const guardQuery = (q: unknown): unknown => {
    if (!isLazyQuery(q)) return q;
    const run = q.handler;
    q.handler = Object.assign(
      (query: LazyQuery): unknown => {
        if (ended()) {
          query.reject(endedError());
          return undefined;
        }
        return run(query);
      },
      { debug: run.debug },
    );
    return q;
  };
  return new Proxy(handle, {
    apply(target, thisArg, args) {
      if (ended()) refuse();
      return guardQuery(Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args));
    },
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'savepoint') {
        return (...args: unknown[]) => {
          if (ended()) refuse();
          const wrapped = args.map((a) =>
            typeof a === 'function'
              ? (s: TransactionSql) => (a as (s: TransactionSql) => unknown)(endGuard(s, ended, tenantId))
              : a,
          );
          return (value as (...a: unknown[]) => unknown).apply(target, wrapped);
        };
      }
      if (!QUERY_METHODS.has(prop)) return value;
      return (...args: unknown[]) => {
        if (ended()) refuse();
        return guardQuery((value as (...a: unknown[]) => unknown).apply(target, args));
      };
    },
  });
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
export function fromPostgresJs(sql: TransactionSql): PgTransactionExecutor;
export function fromPostgresJs(sql: Sql): PostgresJsPgClient;
export function fromPostgresJs(sql: Sql | TransactionSql): PgExecutor | PostgresJsPgClient {
  requireMethods(sql, ['unsafe'], 'fromPostgresJs', 'sql');
  jsonTextAsPg(sql);
  const runner = sql as unknown as UnsafeRunner;
  const root = sql as Partial<Sql>;
  if (typeof root.begin !== 'function' || typeof (sql as { savepoint?: unknown }).savepoint === 'function') {
    return Object.freeze({
      clientKind: 'postgres.js' as const,
      query: <R>(text: string, values?: unknown[]) => runPostgresJs<R>(runner, text, values),
      getTransactionStatus: () => 'T',
    });
  }
  const client = sql as Sql;
  return Object.freeze({
    clientKind: 'postgres.js' as const,
    query: <R>(text: string, values?: unknown[]) => runPostgresJs<R>(runner, text, values),
    connect: () => reservePostgresJs(client),
    scope: (handle: TransactionSql, ended: () => boolean, tenantId: string): TransactionSql =>
      endGuard(handle, ended, tenantId),
    transaction<R>(
      mode: PgTransactionMode,
      fn: (tx: PgExecutor, handle: TransactionSql) => Promise<R>,
    ): Promise<R> {
      const options = `isolation level ${mode.isolation}${mode.readOnly ? ' read only' : ''}`;
      return client.begin(options, (tx) =>
        fn(
          {
            clientKind: 'postgres.js',
            query: (text, values) => runPostgresJs(tx as unknown as UnsafeRunner, text, values),
          },
          tx,
        ),
      ) as Promise<R>;
    },
  });
}
