import type {
  PgExecutor,
  PgPoolLike,
  PgQueryable,
  PgQueryResult,
  PgTransactionExecutor,
  PgTransactionMode,
  PgTransactor,
} from '../kernel/drivers.js';
import { TenantryError } from '../kernel/errors.js';
import { requireMethods, ValidationError } from '../kernel/validation.js';
import {
  endGuard as postgresJsEndGuard,
  jsonTextAsPg,
  reservePostgresJs,
  runPostgresJs,
} from './postgres-js.js';

/** A Drizzle PostgreSQL database (`drizzle(pool)` from `drizzle-orm/node-postgres`, `drizzle(sql)` from `drizzle-orm/postgres-js`). */
export interface DrizzleDatabaseLike {
  // biome-ignore lint/suspicious/noExplicitAny: matches Drizzle's generic transaction() of any schema
  transaction(fn: (tx: any) => Promise<any>, config?: any): Promise<any>;
  readonly $client: unknown;
}

/** A Drizzle PostgreSQL transaction (the `tx` of `db.transaction(async (tx) => …)`). */
export interface DrizzleTransactionLike {
  rollback(): never;
}

/** The transaction type a Drizzle database hands to `transaction()`'s callback. */
export type DrizzleTransactionOf<D extends DrizzleDatabaseLike> = Parameters<
  Parameters<D['transaction']>[0]
>[0];

/** A Drizzle database as a pool for Tenantry's PostgreSQL backends, with Drizzle transactions for units of work. */
export interface DrizzlePgClient<H> extends PgTransactor<H> {
  readonly clientKind: 'drizzle';
}

interface PgLikeClient extends PgQueryable {
  connect?: unknown;
  getTransactionStatus?: () => string | null;
  unsafe?: unknown;
}

/**
 * Adapt a Drizzle PostgreSQL database (node-postgres or postgres.js driver) to Tenantry's executor port:
 *
 * - `fromDrizzle(tx)` (inside `db.transaction(async (tx) => …)`): an executor whose statements run in
 *   that transaction, e.g. `sequencer.next(series, { tx: fromDrizzle(tx) })`.
 * - `fromDrizzle(db)`: a pool (`PgPoolLike`) for every PostgreSQL backend, running on the driver client
 *   Drizzle holds (`db.$client`: a `pg` Pool, or a postgres.js `sql`), and
 *   `createTenantUnitOfWork(fromDrizzle(db))` hands `run`'s callback a Drizzle transaction.
 *
 * Statements run on the driver client itself (no Drizzle query building), so a `pg` Pool under Drizzle
 * costs what it costs alone. A Drizzle database over a single `pg` Client runs statements but cannot
 * check out connections (`connect()` fails with `VALIDATION_FAILED`; give Drizzle a Pool).
 * @throws ValidationError `VALIDATION_FAILED` when the argument is not a Drizzle database or transaction
 *   on the node-postgres or postgres.js driver
 * @example
 * const uow = createTenantUnitOfWork(fromDrizzle(db));
 * const rows = await runAsTenant(ctx, () => uow.run((tx) => tx.select().from(invoices)));
 */
export function fromDrizzle(tx: DrizzleTransactionLike): PgTransactionExecutor;
export function fromDrizzle<D extends DrizzleDatabaseLike>(db: D): DrizzlePgClient<DrizzleTransactionOf<D>>;
export function fromDrizzle(
  db: DrizzleDatabaseLike | DrizzleTransactionLike,
): PgExecutor | DrizzlePgClient<unknown> {
  requireMethods(db, ['transaction'], 'fromDrizzle', 'db');
  if (typeof (db as Partial<DrizzleTransactionLike>).rollback === 'function') {
    return transactionExecutor(db);
  }
  const database = db as DrizzleDatabaseLike;
  const base = driverPool(database.$client);
  return Object.freeze({
    clientKind: 'drizzle' as const,
    query: base.query,
    connect: base.connect,
    scope: (handle: unknown, ended: () => boolean, tenantId: string): unknown =>
      endGuard(handle, ended, tenantId),
    transaction<R>(mode: PgTransactionMode, fn: (tx: PgExecutor, handle: unknown) => Promise<R>): Promise<R> {
      return database.transaction((tx: unknown) => fn(transactionExecutor(tx), tx), {
        isolationLevel: mode.isolation,
        accessMode: mode.readOnly ? 'read only' : 'read write',
      }) as Promise<R>;
    },
  });
}

/**
 * The unit of work's view of a Drizzle transaction: its query builders and `execute` run through the
 * transaction's session, which refuses every call with `UNIT_OF_WORK_ENDED` once the unit has ended.
 * The session's driver client (`tx.session.client`) is guarded too: its methods (a `pg` client's
 * `query`, a postgres.js `TransactionSql` and its lazy queries) are refused once the unit has ended, so
 * they never reach the connection's next holder.
 * (Relational queries, `tx.query.<table>`, hold the session from before and are not covered.)
 */
function endGuard(handle: unknown, ended: () => boolean, tenantId: string): unknown {
  const tx = handle as { session?: object } | null;
  if (typeof tx !== 'object' || tx === null || typeof tx.session !== 'object' || tx.session === null)
    return handle;
  const refuse = (): never => {
    throw new TenantryError('UNIT_OF_WORK_ENDED', 'A query was issued on a unit of work that has ended', {
      details: { tenantId },
    });
  };
  const rawClient = (tx.session as { client?: unknown }).client;
  let client: unknown = rawClient;
  if (typeof (rawClient as { unsafe?: unknown } | null)?.unsafe === 'function') {
    client = postgresJsEndGuard(rawClient as Parameters<typeof postgresJsEndGuard>[0], ended, tenantId);
  } else if (typeof rawClient === 'object' && rawClient !== null) {
    client = new Proxy(rawClient, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value !== 'function' || !ended() ? value : refuse;
      },
    });
  }
  const session = new Proxy(tx.session, {
    get(target, prop, receiver) {
      if (prop === 'client') return client;
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || !ended()) return value;
      return refuse;
    },
  });
  return new Proxy(tx, {
    get: (target, prop, receiver) => (prop === 'session' ? session : Reflect.get(target, prop, receiver)),
  });
}

const notDrizzle = (): ValidationError =>
  new ValidationError('fromDrizzle', [
    {
      path: ['db'],
      message: 'must be a Drizzle database or transaction on the node-postgres or postgres.js driver',
    },
  ]);

/** The executor of a Drizzle transaction: its session's driver client (a `pg` client or a postgres.js `TransactionSql`). */
function transactionExecutor(tx: unknown): PgTransactionExecutor {
  const client = (tx as { session?: { client?: PgLikeClient } } | null)?.session?.client;
  if (typeof client?.query === 'function') {
    const status = client.getTransactionStatus;
    return Object.freeze({
      clientKind: 'drizzle' as const,
      query: <R>(text: string, values?: unknown[]) => client.query<R>(text, values),
      getTransactionStatus: () => (typeof status === 'function' ? status.call(client) : 'T'),
    });
  }
  if (typeof client?.unsafe === 'function') {
    const runner = client as unknown as Parameters<typeof runPostgresJs>[0];
    return Object.freeze({
      clientKind: 'drizzle' as const,
      query: <R>(text: string, values?: unknown[]) => runPostgresJs<R>(runner, text, values),
      getTransactionStatus: () => 'T',
    });
  }
  throw notDrizzle();
}

/** `query` and `connect` on the driver client under a Drizzle database. */
function driverPool(client: unknown): Pick<PgPoolLike, 'query' | 'connect'> {
  const c = client as PgLikeClient | null | undefined;
  if (typeof c?.query === 'function') {
    const query = <R>(text: string, values?: unknown[]): Promise<PgQueryResult<R>> =>
      c.query<R>(text, values);
    // A pg Pool's connect() answers a client; a pg Client's connect() opens its own connection (refused).
    const isPool = typeof c.connect === 'function' && 'totalCount' in c;
    return {
      query,
      connect: isPool
        ? () => (c as unknown as PgPoolLike).connect()
        : () =>
            Promise.reject(
              new TenantryError(
                'VALIDATION_FAILED',
                'fromDrizzle: a Drizzle database over a single pg Client cannot check out connections; give Drizzle a pg Pool',
              ),
            ),
    };
  }
  if (typeof c?.unsafe === 'function') {
    jsonTextAsPg(c);
    const runner = c as unknown as Parameters<typeof runPostgresJs>[0];
    return {
      query: <R>(text: string, values?: unknown[]) => runPostgresJs<R>(runner, text, values),
      connect: () => reservePostgresJs(c, 'drizzle'),
    };
  }
  throw notDrizzle();
}
