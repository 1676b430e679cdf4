import type {
  PgExecutor,
  PgPoolLike,
  PgQueryable,
  PgQueryResult,
  PgTransactionMode,
  PgTransactor,
} from '../kernel/drivers.js';
import { TenantryError } from '../kernel/errors.js';
import { requireMethods, ValidationError } from '../kernel/validation.js';
import { reservePostgresJs, runPostgresJs } from './postgres-js.js';

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
export function fromDrizzle(tx: DrizzleTransactionLike): PgExecutor;
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
    transaction<R>(mode: PgTransactionMode, fn: (tx: PgExecutor, handle: unknown) => Promise<R>): Promise<R> {
      return database.transaction((tx: unknown) => fn(transactionExecutor(tx), tx), {
        isolationLevel: mode.isolation,
        accessMode: mode.readOnly ? 'read only' : 'read write',
      }) as Promise<R>;
    },
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
function transactionExecutor(tx: unknown): PgExecutor {
  const client = (tx as { session?: { client?: PgLikeClient } } | null)?.session?.client;
  if (typeof client?.query === 'function') {
    const status = client.getTransactionStatus;
    return Object.freeze({
      query: <R>(text: string, values?: unknown[]) => client.query<R>(text, values),
      getTransactionStatus: () => (typeof status === 'function' ? status.call(client) : 'T'),
    });
  }
  if (typeof client?.unsafe === 'function') {
    const runner = client as unknown as Parameters<typeof runPostgresJs>[0];
    return Object.freeze({
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
    const runner = c as unknown as Parameters<typeof runPostgresJs>[0];
    return {
      query: <R>(text: string, values?: unknown[]) => runPostgresJs<R>(runner, text, values),
      connect: () => reservePostgresJs(c),
    };
  }
  throw notDrizzle();
}
