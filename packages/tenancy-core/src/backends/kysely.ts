import { CompiledQuery, type Kysely, type KyselyPlugin, type Transaction } from 'kysely';
import type {
  PgExecutor,
  PgPoolClientLike,
  PgQueryResult,
  PgTransactionMode,
  PgTransactor,
} from '../kernel/drivers.js';
import { TenantryError } from '../kernel/errors.js';
import { requireMethods } from '../kernel/validation.js';

/** What a Kysely `QueryResult` holds that the port reads. */
interface KyselyResult {
  rows: unknown[];
  numAffectedRows?: bigint;
}

/** The part of a `Kysely` (or a `Transaction`, or a connection-bound `Kysely`) the adapter uses. */
interface KyselyRunner {
  executeQuery(query: CompiledQuery<unknown>): Promise<KyselyResult>;
}

const run = async <R>(db: KyselyRunner, text: string, values?: unknown[]): Promise<PgQueryResult<R>> => {
  const r = await db.executeQuery(CompiledQuery.raw(text, values ?? []));
  return {
    rows: r.rows as R[],
    rowCount: r.numAffectedRows === undefined ? r.rows.length : Number(r.numAffectedRows),
  };
};

/** A Kysely `Kysely<DB>` as a pool for Tenantry's PostgreSQL backends, with Kysely transactions for units of work. */
export interface KyselyPgClient<DB> extends PgTransactor<Transaction<DB>> {
  readonly clientKind: 'kysely';
}

/**
 * Adapt a Kysely instance (PostgreSQL dialect) to Tenantry's executor port:
 *
 * - `fromKysely(trx)` (a `Transaction<DB>`, inside `db.transaction().execute(…)`): an executor whose
 *   statements run in that transaction, e.g. `sequencer.next(series, { tx: fromKysely(trx) })`;
 *   `getTransactionStatus()` answers `'T'`.
 * - `fromKysely(db)` (a `Kysely<DB>`): a pool (`PgPoolLike`) for every PostgreSQL backend
 *   (`query` runs on a pooled connection, `connect()` holds one through `db.connection()`), and
 *   `createTenantUnitOfWork(fromKysely(db))` hands `run`'s callback a Kysely `Transaction<DB>`.
 *
 * Statements go through `db.executeQuery(CompiledQuery.raw(text, values))`, so Kysely's plugins and
 * logging see them. A connection checked out with `connect()` is returned to Kysely's pool on
 * `release()` even when asked to destroy it (Kysely cannot destroy a connection).
 * @throws ValidationError `VALIDATION_FAILED` when `db` is not a Kysely instance
 * @example
 * const uow = createTenantUnitOfWork(fromKysely(db));
 * const rows = await runAsTenant(ctx, () => uow.run((trx) => trx.selectFrom('invoices').selectAll().execute()));
 */
export function fromKysely<DB>(db: Transaction<DB>): PgExecutor;
export function fromKysely<DB>(db: Kysely<DB>): KyselyPgClient<DB>;
export function fromKysely<DB>(db: Kysely<DB>): PgExecutor | KyselyPgClient<DB> {
  requireMethods(db, ['executeQuery', 'connection', 'transaction', 'withPlugin'], 'fromKysely', 'db');
  const runner = db as unknown as KyselyRunner;
  if (db.isTransaction) {
    return Object.freeze({
      query: <R>(text: string, values?: unknown[]) => run<R>(runner, text, values),
      getTransactionStatus: () => 'T',
    });
  }
  return Object.freeze({
    clientKind: 'kysely' as const,
    query: <R>(text: string, values?: unknown[]) => run<R>(runner, text, values),
    connect: () => checkout(db),
    transaction<R>(
      mode: PgTransactionMode,
      fn: (tx: PgExecutor, handle: Transaction<DB>) => Promise<R>,
    ): Promise<R> {
      let builder = db.transaction().setIsolationLevel(mode.isolation);
      if (mode.readOnly) builder = builder.setAccessMode('read only');
      return builder.execute((trx) =>
        fn({ query: (text, values) => run(trx as unknown as KyselyRunner, text, values) }, trx),
      );
    },
    scope(handle: Transaction<DB>, ended: () => boolean, tenantId: string): Transaction<DB> {
      return handle.withPlugin(endGuard(ended, tenantId));
    },
  });
}

/** Refuse every query compiled after the unit of work ended (Kysely runs plugins on each query). */
function endGuard(ended: () => boolean, tenantId: string): KyselyPlugin {
  return {
    transformQuery(args) {
      if (ended()) {
        throw new TenantryError('UNIT_OF_WORK_ENDED', 'A query was issued on a unit of work that has ended', {
          details: { tenantId },
        });
      }
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
}

/** Hold one of Kysely's pooled connections until `release()`. */
function checkout<DB>(db: Kysely<DB>): Promise<PgPoolClientLike> {
  return new Promise<PgPoolClientLike>((resolve, reject) => {
    let handedOut = false;
    db.connection()
      .execute(
        (conn) =>
          new Promise<void>((done) => {
            handedOut = true;
            let released = false;
            resolve({
              query: <R>(text: string, values?: unknown[]) => {
                if (released) return Promise.reject(releasedError());
                return run<R>(conn as unknown as KyselyRunner, text, values);
              },
              release: () => {
                if (released) return;
                released = true;
                done();
              },
            });
          }),
      )
      .catch((e: unknown) => {
        if (!handedOut) reject(e);
      });
  });
}

const releasedError = (): TenantryError =>
  new TenantryError('VALIDATION_FAILED', 'A query was issued on a connection after release()');
