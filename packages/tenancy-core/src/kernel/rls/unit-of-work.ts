import { z } from 'zod';
import { TenantryError } from '../errors.js';
import type {
  PgExecutor,
  PgPoolClientLike,
  PgPoolLike,
  PgUnitOfWorkClient,
  PgQueryResult,
  PgTransactor,
} from '../drivers.js';
import { withSpan } from '../telemetry.js';
import { resolveTenantId } from '../tenant-resolution.js';
import { parseInput } from '../validation.js';
import { quoteLiteral } from './sql-quote.js';
import { assertRoleSubjectToRls } from './startup-check.js';
import { TenantSettingNameSchema } from './tenant-table-sql.js';

/** Options of {@link createTenantUnitOfWork}. */
export const TenantUnitOfWorkOptionsSchema = z
  .object({
    /** The setting the policies read: `name.name` in lower snake case, each part at most 63 characters. @default 'app.tenant_id' */
    setting: TenantSettingNameSchema.default('app.tenant_id'),
    /** @default 'read committed' (the server default) */
    isolation: z.enum(['read committed', 'repeatable read', 'serializable']).default('read committed'),
  })
  .strict();
export type TenantUnitOfWorkOptions = z.input<typeof TenantUnitOfWorkOptionsSchema>;

interface EventedClient {
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/** Options of one unit of work. */
export interface RunOptions {
  /** The tenant, resolved with `resolveTenantId`: the context's when omitted; another tenant only inside `runAsSystem`. */
  tenantId?: string;
  /** Open the transaction `READ ONLY`. @default false */
  readOnly?: boolean;
}

/**
 * Runs callbacks as units of work bound to one tenant. `H` is the handle `fn` gets: a `pg` client for a
 * `pg` Pool, the library's own transaction for an adapter (`Transaction<DB>` from `fromKysely(db)`, the
 * Drizzle transaction from `fromDrizzle(db)`, a `TransactionSql` from `fromPostgresJs(sql)`).
 */
export interface TenantUnitOfWork<H = PgUnitOfWorkClient> {
  /**
   * Check out a connection, `BEGIN`, set the tenant for this transaction only
   * (`SET LOCAL setting TO 'tenant'` on a `pg` pool), run `fn` with a handle on the connection, `COMMIT` (or
   * `ROLLBACK` if `fn` throws) and release it. If `ROLLBACK` itself fails, the connection is destroyed
   * instead of returned to the pool, so no connection ever goes back in an unknown state.
   *
   * - The handle stops working when the unit ends: a query issued later (from a closure or a timer)
   *   fails with `UNIT_OF_WORK_ENDED` and never reaches the connection; queries `fn` started but did
   *   not await are waited for before `COMMIT`.
   * - Session state a unit may change (a session-level `SET` of the tenant setting, `SET ROLE`) is reset
   *   in the same round trip as `COMMIT`/`ROLLBACK`; on a `pg` pool, `WITH HOLD` cursors are closed and
   *   temporary tables dropped there too (they would hold the tenant's rows for the next holder).
   * - On a pipelined `pg` pool (`new pg.Pool({ pipeline: true })`), `BEGIN` + the tenant setting are
   *   written together with `fn`'s first statement, and when `fn` hands back the promise of its last
   *   statement unawaited (`(db) => db.query(…)`), `COMMIT` is written right behind it and the handle
   *   refuses further queries: the unit costs the round trips of `fn`'s statements alone. Otherwise
   *   `COMMIT` waits for `fn` (one round trip more); on other clients, `BEGIN` costs one too.
   * - The first time a physical connection is used, its role is checked (not superuser, no BYPASSRLS,
   *   not a member of such a role): `RLS_SUPERUSER` / `RLS_BYPASSRLS` otherwise.
   * @throws RlsError `RLS_SUPERUSER`, `RLS_BYPASSRLS` on a connection whose role bypasses row-level security
   * @throws TenantryError `TENANT_CONTEXT_MISSING` outside any context, `TENANT_CONTEXT_CONFLICT` naming another tenant
   * @throws ValidationError `VALIDATION_FAILED` on a malformed tenant id
   * @throws TenantryError `UNIT_OF_WORK_ROLLED_BACK` when a statement failed inside `fn` (error caught there) and COMMIT rolled back
   *
   * Through an adapter, the library opens and ends the transaction (its `transaction()`/`begin`), the
   * tenant is set with `set_config` as the first statement in it, session state is reset as its last,
   * and the role is checked once per adapter. The handle refuses queries after the unit ended
   * (`UNIT_OF_WORK_ENDED`: a Kysely plugin; a view of the Drizzle transaction's session, relational
   * `tx.query` excepted; a view of postgres.js' `tx`).
   */
  run<R>(fn: (client: H) => Promise<R>, options?: RunOptions): Promise<R>;
  /**
   * One statement as a unit of work: `run((db) => db.query(text, values), options)` with the same
   * guarantees. On a pipelined `pg` client (`new pg.Pool({ pipeline: true })`) `BEGIN` + the tenant
   * setting, the statement and `COMMIT` are written together, in one socket write, and cost one round
   * trip; on any other `pg` client it costs what `run` costs (three round trips).
   * Through an adapter (Kysely, Drizzle, postgres.js) it runs in the library's transaction, as `run`
   * does: those drivers do not pipeline, so it costs the library's BEGIN, the setting, the statement,
   * the reset and COMMIT, one round trip each (postgres.js writes BEGIN with the first statement).
   * @param text the SQL (one statement; parameters as `$1`…)
   * @param values its parameters (default none)
   * @returns the driver's result (`{ rows, rowCount }`)
   * @throws the statement's own driver error when it fails (the transaction is rolled back)
   * @throws RlsError `RLS_SUPERUSER`, `RLS_BYPASSRLS` on a connection whose role bypasses row-level security
   * @throws TenantryError `TENANT_CONTEXT_MISSING`, `TENANT_CONTEXT_CONFLICT`, `UNIT_OF_WORK_ROLLED_BACK`
   * @throws ValidationError `VALIDATION_FAILED` on a malformed tenant id, text or values
   * @example
   * const latest = await runAsTenant(ctx, () =>
   *   uow.query('SELECT * FROM invoices ORDER BY id DESC LIMIT 20'),
   * );
   */
  query<R = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    options?: RunOptions,
  ): Promise<PgQueryResult<R>>;
}

/** The statement of {@link TenantUnitOfWork.query}. */
export const UnitOfWorkStatementSchema = z.object({
  text: z.string().min(1).max(1_000_000),
  values: z.array(z.unknown()).max(65_535).optional(),
});

/**
 * Whether `client` is a `pg` client in pipeline mode (`new pg.Client({ pipeline: true })`, or a
 * `pg.Pool` made with `{ pipeline: true }`, which passes the option to its clients): its queries are
 * written to the server without waiting for the previous reply, in order, each with its own `Sync`.
 * The flag is `pg`'s own public property; any other client answers `false` and gets one round trip per
 * statement.
 */
export function isPipelinedClient(client: unknown): boolean {
  try {
    return (
      typeof client === 'object' && client !== null && (client as { pipeline?: unknown }).pipeline === true
    );
  } catch {
    return false;
  }
}

/**
 * Units of work on your `pg` Pool with the tenant set transaction-locally (invariant T3). The tenant
 * never lives in session state (and session state a unit sets is reset before release), so it cannot
 * leak into the next checkout, and the runner works
 * behind PgBouncer in transaction mode. `BEGIN` and `SET LOCAL` go to the server in one round trip
 * (the tenant id is validated — `[A-Za-z0-9._-]` only — and quoted as a literal).
 * @example
 * const uow = createTenantUnitOfWork(pool);
 * const invoices = await runAsTenant(ctx, () => uow.run((db) => db.query('SELECT * FROM invoices')));
 * // Kysely: const uow = createTenantUnitOfWork(fromKysely(db)); uow.run((trx) => trx.selectFrom('invoices').selectAll().execute())
 */
export function createTenantUnitOfWork<H>(
  client: PgTransactor<H>,
  options?: TenantUnitOfWorkOptions,
): TenantUnitOfWork<H>;
export function createTenantUnitOfWork(pool: PgPoolLike, options?: TenantUnitOfWorkOptions): TenantUnitOfWork;
export function createTenantUnitOfWork(
  pool: PgPoolLike | PgTransactor<unknown>,
  options: TenantUnitOfWorkOptions = {},
): TenantUnitOfWork<unknown> {
  const o = parseInput(TenantUnitOfWorkOptionsSchema, options, 'unit of work options');
  const adapter = isTransactor(pool) ? pool : undefined;
  if (adapter === undefined && typeof (pool as Partial<PgPoolLike> | null)?.connect !== 'function') {
    // A Kysely or Drizzle database or a postgres.js `sql` given as is (from JavaScript, no type check).
    throw new TenantryError(
      'VALIDATION_FAILED',
      'createTenantUnitOfWork takes a pg Pool or an adapter: wrap a Kysely database with fromKysely(db) (@tenantry/core/kysely), a Drizzle database with fromDrizzle(db) (@tenantry/core/drizzle), a postgres.js sql with fromPostgresJs(sql) (@tenantry/core/postgres-js)',
      { details: { path: ['pool'] } },
    );
  }
  const settingLiteral = quoteLiteral(o.setting);
  // Session state a unit may have changed (a session-level SET of the tenant setting, SET ROLE) is reset
  // in the same round trip as COMMIT/ROLLBACK, so it never reaches the next holder of the connection.
  // (RESET statements: measured cheaper than a SELECT set_config(…, false); the setting name is validated
  // as `name.name` in lower snake case, so it needs no quoting.)
  const resetSql = `RESET ${o.setting}; RESET ROLE`;
  // Session objects that outlive COMMIT holding the tenant's rows, readable by whoever holds the
  // connection next (T3): a WITH HOLD cursor (materialised at COMMIT) and a temporary table. Closed and
  // dropped in the same round trip; both are allowed in a transaction and cheap when there is nothing.
  const sessionResetSql = `CLOSE ALL; DISCARD TEMP; ${resetSql}`;
  // On a pg client the reset runs inside the unit's transaction, before COMMIT (RESET and DISCARD TEMP
  // are transactional: they commit with it, and roll back with a failed COMMIT, after which the ROLLBACK
  // path resets again). One message, one implicit transaction fewer than resetting after COMMIT
  // (measured: a few per cent of a one-statement unit). In a transaction that failed inside `fn` (an
  // error the callback caught), the first statement is refused with 25P02 and the rest is skipped.
  const commitSql = `${sessionResetSql}; COMMIT`;
  return Object.freeze({
    async run<R>(fn: (client: never) => Promise<R>, runOptions: RunOptions = {}): Promise<R> {
      const tenantId = resolveTenantId(runOptions.tenantId, 'unit of work');
      const mode = `ISOLATION LEVEL ${o.isolation.toUpperCase()}${runOptions.readOnly ? ' READ ONLY' : ''}`;
      return withSpan(
        'core',
        'unit_of_work',
        { 'tenantry.tenant_id': tenantId, 'db.system': 'postgresql', 'tenantry.pg.isolation': o.isolation },
        () =>
          adapter
            ? runInAdapter(adapter, tenantId, runOptions.readOnly === true, fn as (h: unknown) => Promise<R>)
            : runInTransaction(tenantId, mode, fn as (h: PgPoolClientLike) => Promise<R>),
      );
    },
    async query<R = Record<string, unknown>>(
      text: string,
      values?: readonly unknown[],
      runOptions: RunOptions = {},
    ): Promise<PgQueryResult<R>> {
      // Hot path: the schema's rules checked by hand; zod runs only to report a failure (measured: the
      // parse was a visible share of the client's CPU per one-round-trip read).
      const statement =
        typeof text === 'string' &&
        text.length >= 1 &&
        text.length <= 1_000_000 &&
        (values === undefined || (Array.isArray(values) && values.length <= 65_535))
          ? { text, values }
          : parseInput(UnitOfWorkStatementSchema, { text, values }, 'unit of work statement');
      const params = statement.values as unknown[] | undefined;
      const tenantId = resolveTenantId(runOptions?.tenantId, 'unit of work');
      const mode = `ISOLATION LEVEL ${o.isolation.toUpperCase()}${runOptions?.readOnly ? ' READ ONLY' : ''}`;
      return withSpan(
        'core',
        'unit_of_work',
        { 'tenantry.tenant_id': tenantId, 'db.system': 'postgresql', 'tenantry.pg.isolation': o.isolation },
        () =>
          adapter
            ? runInAdapter(adapter, tenantId, runOptions?.readOnly === true, (_handle, tx) =>
                tx.query<R>(statement.text, params),
              )
            : runInTransaction(tenantId, mode, (db) => db.query<R>(statement.text, params)),
      );
    },
  });

  /** The session reset and COMMIT; 25P02 (the transaction failed inside `fn`) → `UNIT_OF_WORK_ROLLED_BACK`. */
  function commitUnit(client: PgPoolClientLike, tenantId: string): Promise<unknown> {
    return client.query(commitSql).catch((error: unknown) => {
      if ((error as { code?: unknown } | null)?.code !== '25P02') throw error;
      throw new TenantryError(
        'UNIT_OF_WORK_ROLLED_BACK',
        'The transaction failed inside the unit of work and was rolled back on COMMIT',
        { details: { tenantId }, cause: error },
      );
    });
  }

  async function runInTransaction<R>(
    tenantId: string,
    mode: string,
    fn: (client: PgPoolClientLike) => Promise<R>,
  ): Promise<R> {
    const client = await (pool as PgPoolLike).connect();
    // A connection that dies while checked out emits 'error' on the client (pg removes its pool
    // listener during checkout); listen while we hold it, so the process does not crash and the
    // connection is destroyed instead of returned.
    const events = client as unknown as EventedClient;
    let broken: Error | undefined;
    const onError = (error: Error): void => {
      broken = error;
    };
    events.on?.('error', onError);
    const release = (destroy?: Error): void => {
      events.removeListener?.('error', onError);
      client.release(destroy ?? broken);
    };
    // fn gets a handle, not the pooled client: it stops working when the unit ends, and the unit waits
    // for every query it started before COMMIT, so no query of this unit can run in the next holder's.
    const handle = new UnitHandle(client, tenantId);
    let result: R;
    try {
      if (!verified.has(client)) {
        // Once per physical connection: a superuser or BYPASSRLS role would see every tenant (T3).
        await assertRoleSubjectToRls(client);
        verified.add(client);
      }
      // SET LOCAL: transaction-local like set_config(…, true), but a utility statement: nothing to plan
      // and no row to send back (measured: fewer server and client cycles per unit).
      const beginSql = `BEGIN ${mode}; SET LOCAL ${o.setting} TO ${quoteLiteral(tenantId)}`;
      let commit: { command?: string };
      if (!isPipelinedClient(client)) {
        await client.query(beginSql);
        try {
          result = await fn(handle);
        } finally {
          await handle.end();
        }
        commit = lastOf(await commitUnit(client, tenantId));
      } else {
        // Pipelined: BEGIN + the tenant setting are written now and the caller's statements follow
        // without waiting for the reply. Fail-closed: the setting is transaction-local and set in the
        // same message as BEGIN, so a statement that ran without BEGIN runs with no tenant (the
        // policies show and accept nothing); and the server processes the messages in order.
        // BEGIN, the statements `fn` issues before its first await and (below) COMMIT leave in one
        // socket write: one segment and one wake-up of the server instead of one per statement.
        const flush = corkWrites(client);
        let begun: Promise<Settled>;
        let returned: Promise<R> | R;
        let committed: Promise<Settled> | undefined;
        try {
          begun = settle(client.query(beginSql));
          try {
            // A non-async `fn` may throw before returning: the handle is ended before anything else runs.
            returned = fn(handle);
          } catch (error) {
            handle.refuse();
            flush();
            await begun;
            throw error;
          }
          if (returned !== undefined && returned === handle.lastIssued) {
            // `fn` handed back the promise of the last statement it issued, unawaited: it has nothing
            // left to run in this unit (a later query on the handle is refused from now on), so COMMIT
            // goes out right behind that statement. `(db) => db.query(…)` and `uow.query` cost one round trip.
            handle.refuse();
            committed = settle(commitUnit(client, tenantId));
          }
        } finally {
          flush();
        }
        if (committed !== undefined) {
          const final = await settle(returned);
          await handle.end();
          const [b, c] = [await begun, await committed];
          if (!b.ok) throw b.error;
          if (!final.ok) throw final.error;
          if (!c.ok) throw c.error;
          result = final.value as R;
          commit = lastOf(c.value);
        } else {
          try {
            result = await returned;
          } finally {
            await handle.end();
          }
          const b = await begun;
          if (!b.ok) throw b.error;
          commit = lastOf(await commitUnit(client, tenantId));
        }
      }
      // COMMIT of a transaction that failed inside `fn` (an error the callback caught) rolls back.
      if (commit.command === 'ROLLBACK') {
        throw new TenantryError(
          'UNIT_OF_WORK_ROLLED_BACK',
          'The transaction failed inside the unit of work and was rolled back on COMMIT',
          { details: { tenantId } },
        );
      }
    } catch (error) {
      // Every exit path ends the handle (synchronous throw, rejection, a thrown non-Error): no query of
      // this unit may reach the connection once it goes back to the pool.
      await handle.end();
      try {
        await client.query(`ROLLBACK; ${sessionResetSql}`);
      } catch (rollbackError) {
        release(rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError)));
        throw error;
      }
      release();
      throw error;
    }
    release();
    return result;
  }

  // Through an adapter: the library opens and ends the transaction, so `fn` gets the library's handle.
  async function runInAdapter<R>(
    client: PgTransactor<unknown>,
    tenantId: string,
    readOnly: boolean,
    fn: (handle: unknown, tx: PgExecutor) => Promise<R>,
  ): Promise<R> {
    if (!verified.has(client)) {
      // Once per adapter (one pool, one role): a superuser or BYPASSRLS role would see every tenant (T3).
      await assertRoleSubjectToRls(client);
      verified.add(client);
    }
    return client.transaction({ isolation: o.isolation, readOnly }, async (tx: PgExecutor, handle) => {
      await tx.query(`SELECT set_config(${settingLiteral}, ${quoteLiteral(tenantId)}, true)`);
      let ended = false;
      let result: R;
      try {
        result = await fn(client.scope ? client.scope(handle, () => ended, tenantId) : handle, tx);
      } finally {
        ended = true;
      }
      try {
        await tx.query(sessionResetSql);
      } catch (error) {
        // 25P02: a statement failed inside `fn` (its error caught there); the library rolls back.
        if ((error as { code?: unknown } | null)?.code !== '25P02') throw error;
        throw new TenantryError(
          'UNIT_OF_WORK_ROLLED_BACK',
          'The transaction failed inside the unit of work and was rolled back on COMMIT',
          { details: { tenantId }, cause: error },
        );
      }
      return result;
    });
  }
}

const isTransactor = (c: unknown): c is PgTransactor<unknown> =>
  typeof (c as Partial<PgTransactor<unknown>> | null)?.transaction === 'function' &&
  typeof (c as Partial<PgTransactor<unknown>>).clientKind === 'string';

// Connections whose role was checked (pg hands out the same client object for one physical connection).
const verified = new WeakSet<object>();

/**
 * Hold a `pg` client's socket writes until the returned function is called (Node's `Writable#cork`), so
 * the statements issued in between, on a pipelined client, leave in one write: one TCP segment and one
 * wake-up of the server instead of one per statement. Call the returned function exactly as soon as
 * the statements are issued (it is idempotent; use `try … finally`): nothing is sent before it.
 * A no-op for a client without a socket that can be corked (another driver, a client not connected).
 * @example
 * const flush = corkWrites(client);
 * try { a = client.query('BEGIN'); b = client.query(sql, values); } finally { flush(); }
 */
export function corkWrites(client: unknown): () => void {
  let stream: Partial<Corkable> | undefined;
  try {
    stream = (client as { connection?: { stream?: Partial<Corkable> } } | null)?.connection?.stream;
  } catch {
    return noop;
  }
  if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return noop;
  const socket = stream as Corkable;
  try {
    socket.cork();
  } catch {
    return noop;
  }
  let corked = true;
  return () => {
    if (!corked) return;
    corked = false;
    socket.uncork();
  };
}
interface Corkable {
  cork(): void;
  uncork(): void;
}
const noop = (): void => undefined;

/** The last result of a multi-statement message (pg answers an array), i.e. COMMIT's. */
const lastOf = (r: unknown): { command?: string } =>
  (Array.isArray(r) ? r[r.length - 1] : r) as { command?: string };

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };
/** A promise's outcome without an unhandled rejection while other replies of the pipeline arrive. */
const settle = (p: Promise<unknown>): Promise<Settled> =>
  p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );

/**
 * What `fn` gets: the connection's `query`, usable only while the unit runs. A query issued after the
 * unit ended (kept in a closure, started from a timer) fails with `UNIT_OF_WORK_ENDED` and never reaches
 * the connection, which by then may belong to another tenant's unit.
 */
class UnitHandle implements PgUnitOfWorkClient {
  #ended = false;
  readonly #inflight = new Set<Promise<unknown>>();
  /** The promise of the last statement issued (what `fn` may hand back unawaited). */
  lastIssued: Promise<unknown> | undefined;
  constructor(
    private readonly client: PgPoolClientLike,
    private readonly tenantId: string,
  ) {}

  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PgQueryResult<R>> {
    if (this.#ended) {
      return Promise.reject(
        new TenantryError('UNIT_OF_WORK_ENDED', 'A query was issued on a unit of work that has ended', {
          details: { tenantId: this.tenantId },
        }),
      );
    }
    const p = this.client.query<R>(text, values);
    const tracked = p.then(
      () => undefined,
      () => undefined,
    );
    this.#inflight.add(tracked);
    void tracked.then(() => this.#inflight.delete(tracked));
    this.lastIssued = p;
    return p;
  }

  getTransactionStatus(): string | null {
    if (this.#ended) return null;
    const status = (this.client as { getTransactionStatus?: () => string | null }).getTransactionStatus?.();
    // 'I' on a pipelined client means the BEGIN written before the callback ran has not been answered yet.
    return status === 'E' || status === null ? status : 'T';
  }

  /** Refuse new queries from now on (synchronously). */
  refuse(): void {
    this.#ended = true;
  }

  /** The unit releases the connection itself; releasing it from inside `fn` is refused. */
  release(): void {
    throw new TenantryError(
      'VALIDATION_FAILED',
      'The unit of work releases its connection; do not call release()',
    );
  }

  /** Refuse new queries, then wait for the ones already started (they run inside this transaction). */
  async end(): Promise<void> {
    this.#ended = true;
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }
}
