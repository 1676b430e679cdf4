import {
  bindToCurrentContext,
  type Clock,
  type PgExecutor,
  type PgPoolLike,
  type PgQueryable,
  systemClock,
  withSpan,
} from '@tenantry/core';
import { z } from 'zod';
import type { VoidRecord } from '../../counter-store.js';
import { SequencerError } from '../../errors.js';
import type { IssueDateInput } from '../../period.js';
import {
  type AllocatedNumber,
  buildAllocations,
  type CounterKey,
  checkRange,
  callOptions,
  resolveRequest,
  type Series,
  type TenantOption,
} from '../../series.js';
import { spanAttributes } from '../../telemetry.js';
import { parseVoid } from '../../void-request.js';
import { mapPgError, type PgNamedQueryable, toNumber } from './errors.js';
import { pgListVoids, pgRecordVoid } from './voids.js';
import { invalidInput, parseSequencerInput } from '../../input.js';
import { Combiner, CombineOptionsSchema } from '../../combining.js';
import { type PostgresWriteContext, serveWriteGroup, type WriteRequest } from './write-group.js';
import {
  type InsertedWithNumber,
  type PostgresNumberedInsert,
  insertWithNumber,
} from './insert-with-number.js';

/** Options of {@link createPostgresSequencer}. */
export const PostgresSequencerOptionsSchema = z.object({
  /**
   * How long an allocation waits for a counter row another transaction holds before failing with
   * `SEQUENCER_LOCK_TIMEOUT`. Applied as a transaction-local `lock_timeout` (like `SET LOCAL`), which
   * stays in force for the rest of the caller's transaction. `null` leaves the transaction's own
   * `lock_timeout` alone (PostgreSQL's default, 0, waits forever).
   * @default 5000
   */
  lockTimeoutMs: z.number().int().min(1).max(3_600_000).nullable().default(5_000),
  /**
   * Send statements with names so PostgreSQL parses them once per connection (`pg`'s
   * `{ name, text, values }` form). Off by default: named statements belong to a server session, which
   * a transaction-mode pooler (PgBouncer < 1.21, or ≥ 1.21 with `max_prepared_statements = 0`) hands to
   * other clients (`prepared statement "tenantry_seq_next_u4nt" already exists`). Turn on only on direct
   * connections, or behind PgBouncer ≥ 1.21 with `max_prepared_statements` > 0; the gain is small (see
   * the README, "Behind a connection pooler").
   * @default false
   */
  namedStatements: z.boolean().default(false),
  /**
   * Combining mode of {@link PostgresSequencer.withNumber}: requests of one (tenant, series, period)
   * that arrive while this process's transaction holds the series are served together by the next
   * transaction, each write in its own savepoint (see the README, "Combining allocations on a hot
   * series"). Omitted, or `{ maxGroupSize: 1 }`: every `withNumber` runs its own transaction.
   * `next`/`nextBatch` (your transaction) are not affected.
   * @default undefined (no combining)
   * @example createPostgresSequencer({ pool, combine: { maxGroupSize: 32, maxWaitMs: 0 } })
   */
  combine: CombineOptionsSchema.optional(),
});

/**
 * The caller's open transaction: a `pg` `Client` or `PoolClient` after `await client.query('BEGIN')`.
 * A `pg.Pool` does not fit this type (a pool runs each statement in its own autocommitted
 * transaction, which would consume the number even when the document write fails), and is refused at
 * run time too. `getTransactionStatus()` is `pg`'s own (the status byte of the server's last
 * ReadyForQuery): the check costs no round trip. For another client, pass an object whose `query`
 * runs in the open transaction and whose `getTransactionStatus()` returns `'T'` only inside it.
 */
export interface PostgresTransaction extends PgQueryable {
  /** `'T'` inside a transaction block, `'E'` in a failed one, `'I'` outside any (pg's `TransactionStatus`). */
  getTransactionStatus(): string | null;
}

/** The `db` of a read, checked. */
function requireDb(opts: PostgresReadOptions): PgQueryable {
  let db: PgQueryable | undefined;
  try {
    db = (opts as Partial<PostgresReadOptions> | undefined)?.db;
    if (typeof db?.query === 'function') return db;
  } catch (e) {
    throw invalidInput('read options', e, ['db']);
  }
  throw invalidInput('read options', undefined, ['db']);
}

/**
 * Refuse to run outside a transaction block (invariant S4: the counter update must not autocommit).
 * @throws SequencerError `SEQUENCER_NOT_IN_TRANSACTION`
 */
function requireTransaction(tx: PostgresTransaction, what: string): void {
  const t = tx as Partial<PostgresTransaction> | null | undefined;
  const status = typeof t?.getTransactionStatus === 'function' ? t.getTransactionStatus() : undefined;
  if (status === 'T' || status === 'E') return; // 'E': PostgreSQL itself refuses (25P02)
  const builder = queryBuilderKind(tx);
  throw new SequencerError(
    'SEQUENCER_NOT_IN_TRANSACTION',
    builder !== undefined
      ? `${what} needs { tx }: a pg client inside BEGIN, or a query builder's transaction wrapped by @tenantry/core (got what looks like a ${builder} handle): pass ${
          builder === 'Kysely'
            ? "fromKysely(trx) from '@tenantry/core/kysely'"
            : builder === 'Drizzle'
              ? "fromDrizzle(tx) from '@tenantry/core/drizzle'"
              : "fromPostgresJs(sql) from '@tenantry/core/postgres-js' (inside sql.begin)"
        }`
      : `${what} needs { tx }: a pg client inside BEGIN (got ${
          typeof t?.query !== 'function'
            ? 'no client'
            : status === undefined
              ? 'a Pool or a client without getTransactionStatus()'
              : 'a client outside any transaction block'
        }); await client.query('BEGIN') first, or wrap a Kysely, Drizzle or postgres.js transaction with fromKysely / fromDrizzle / fromPostgresJs from @tenantry/core`,
    { details: { what, transactionStatus: status ?? null } },
  );
}

/** Which query builder's handle `v` looks like (for the error message only), or undefined. */
function queryBuilderKind(v: unknown): 'Kysely' | 'Drizzle' | 'postgres.js' | undefined {
  try {
    if (typeof v === 'function') {
      const f = v as { unsafe?: unknown; begin?: unknown; savepoint?: unknown };
      return typeof f.unsafe === 'function' &&
        (typeof f.begin === 'function' || typeof f.savepoint === 'function')
        ? 'postgres.js'
        : undefined;
    }
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (typeof o.selectFrom === 'function' && typeof o.insertInto === 'function') return 'Kysely';
    if (typeof o.select === 'function' && typeof o.insert === 'function' && typeof o.execute === 'function')
      return 'Drizzle';
  } catch {
    // a hostile value (throwing getter): no hint
  }
  return undefined;
}

/** Options of one in-transaction allocation (the tenant comes from the context unless named). */
export interface PostgresAllocateOptions extends TenantOption {
  /** The caller's transaction: a `pg` client inside `BEGIN`, which also writes the document. */
  tx: PostgresTransaction;
  /** The document's issue date; required for periodic series, chronology and date tokens. */
  issueDate?: IssueDateInput;
}

/** Options of one {@link PostgresSequencer.withNumber} call (the tenant comes from the context unless named). */
export interface PostgresWithNumberOptions extends TenantOption {
  /** The document's issue date; required for periodic series, chronology and date tokens. */
  issueDate?: IssueDateInput;
}

/** The PostgreSQL in-transaction sequencer. */
export interface PostgresSequencer {
  /**
   * The sequencer runs the transaction: it takes a connection from the `pool` given to
   * `createPostgresSequencer`, `BEGIN`s, locks the counter row, calls `write` with the next number and
   * the transaction (`{ number, formatted, tx, … }`), advances the counter, `COMMIT`s, and resolves with
   * what `write` returned — only after `COMMIT`. If `write` throws, its error is rethrown and no number
   * is consumed. With `combine`, concurrent requests of the same (tenant, series, period) share one
   * transaction, each write in its own savepoint; a failed write rolls back to its savepoint and the
   * next request gets its number. `write` runs in the caller's own tenant context.
   * Never `COMMIT`, `ROLLBACK` or release `tx` inside `write`.
   * @throws SequencerError `SEQUENCER_COMMIT_FAILED` (retry: nothing was written), `SEQUENCER_LOCK_TIMEOUT`,
   *   `SEQUENCER_COMMIT_UNKNOWN`, `SEQUENCER_CHRONOLOGY_VIOLATION`, `SEQUENCER_ISSUE_DATE_REQUIRED`,
   *   `SEQUENCER_EXHAUSTED`, `SEQUENCER_NOT_MIGRATED`, `SEQUENCER_STORE_UNAVAILABLE`; or `write`'s own error
   * @example
   * const code = await seq.withNumber(invoices, { issueDate }, async ({ tx, number, formatted, tenant }) => {
   *   await tx.query('INSERT INTO invoices (tenant, number, code) VALUES ($1, $2, $3)', [tenant, number, formatted]);
   *   return formatted;
   * });
   */
  withNumber<T>(
    series: Series,
    options: PostgresWithNumberOptions,
    write: (allocated: PostgresWriteContext) => Promise<T>,
  ): Promise<T>;
  /**
   * Take the next number and insert the document that carries it in ONE statement, one round trip:
   * `WITH n AS (UPDATE <counter> … RETURNING last_value) INSERT INTO <table> (…) SELECT …, n.last_value FROM n`,
   * run on the `pool` given to `createPostgresSequencer` (or `options.db`). One statement is one
   * transaction, so the number is consumed if and only if the row is inserted (S1–S4) with no
   * `BEGIN`/`COMMIT` around it. Columns are quoted as written; values are parameters, cast by
   * PostgreSQL to their columns' types (`undefined` leaves a column out). The number and the formatted
   * column come from the counter. The first call for a series and period creates its counter row (two
   * more round trips, once). For a table under row-level security, or a document written with more
   * than one statement, use `withNumber`.
   * @param insert `{ table, numberColumn, formattedColumn?, tenantColumn?, values?, returning? }` (zod-validated)
   * @returns the allocated number (`{ number, formatted, tenant, series, period, issueDate }`) and `row`, the `returning` columns
   * @throws SequencerError `SEQUENCER_INSERT_FAILED` (the INSERT failed, or a trigger or rule left the row out:
   *   `details.sqlstate`, `constraint`, `reason`; nothing consumed), `SEQUENCER_COMMIT_UNKNOWN` (the connection
   *   broke while the statement ran: look the document up), `SEQUENCER_LOCK_TIMEOUT`, `SEQUENCER_CHRONOLOGY_VIOLATION`, `SEQUENCER_ISSUE_DATE_REQUIRED`,
   *   `SEQUENCER_EXHAUSTED`, `SEQUENCER_NOT_MIGRATED`, `SEQUENCER_STORE_UNAVAILABLE`, `SEQUENCER_STORE_FAILED`
   * @throws ValidationError `VALIDATION_FAILED` on a malformed table, column or option
   * @example
   * const inv = await seq.insertWithNumber(invoices, {
   *   table: 'invoices', tenantColumn: 'tenant', numberColumn: 'number', formattedColumn: 'code',
   *   values: { customer: 'ACME', total: '120.00', issue_date: issueDate }, returning: ['id'],
   * }, { issueDate });
   * inv.formatted; // 'INV-2026-000042'
   */
  insertWithNumber<R = Record<string, unknown>>(
    series: Series,
    insert: PostgresNumberedInsert,
    options?: PostgresInsertWithNumberOptions,
  ): Promise<InsertedWithNumber<R>>;
  /**
   * Take the next number inside `tx`: the counter row is locked `FOR UPDATE` until `tx` commits or
   * rolls back, so the number and the document commit or roll back together (S1–S4). One round trip.
   * @throws SequencerError `SEQUENCER_LOCK_TIMEOUT` (retry the transaction), `SEQUENCER_CHRONOLOGY_VIOLATION`,
   *   `SEQUENCER_ISSUE_DATE_REQUIRED`, `SEQUENCER_EXHAUSTED`, `SEQUENCER_NOT_MIGRATED`
   * @example
   * await client.query('BEGIN');
   * const n = await seq.next(invoices, { tx: client, issueDate: '2026-03-01' });
   * await client.query('INSERT INTO invoices (tenant, series, period, number) VALUES ($1,$2,$3,$4)', [n.tenant, n.series, n.period, n.number]);
   * await client.query('COMMIT');
   */
  next(series: Series, options: PostgresAllocateOptions): Promise<AllocatedNumber>;
  /** `count` consecutive numbers in one statement, all or none (bulk invoicing). */
  nextBatch(series: Series, count: number, options: PostgresAllocateOptions): Promise<AllocatedNumber[]>;
  /** The last committed number of a series and period (`null` before the first). */
  lastCommitted(series: Series, options: PostgresReadOptions): Promise<number | null>;
  /**
   * Record a void: the number stays consumed and is never reissued. Run it in the transaction that marks
   * the document voided.
   * @throws SequencerError `SEQUENCER_NUMBER_NOT_ISSUED`, `SEQUENCER_ALREADY_VOIDED`
   */
  void(series: Series, number: number, options: PostgresVoidOptions): Promise<VoidRecord>;
  /** Voids recorded for a series and period, by number. */
  voids(series: Series, options: PostgresReadOptions): Promise<VoidRecord[]>;
}

/** Options of one {@link PostgresSequencer.insertWithNumber} call (the tenant comes from the context unless named). */
export interface PostgresInsertWithNumberOptions extends PostgresWithNumberOptions {
  /** Where to run the statement (a `pg` Pool or client). @default the sequencer's `pool` */
  db?: PgQueryable;
}

/** Options of a read (`lastCommitted`, `voids`): any `pg` Pool or client. */
export interface PostgresReadOptions extends TenantOption {
  db: PgQueryable;
  /** Which period to read, for periodic series. */
  issueDate?: IssueDateInput;
}

/** Options of {@link PostgresSequencer.void}. */
export interface PostgresVoidOptions extends TenantOption {
  /** The transaction that marks the document voided. */
  tx: PostgresTransaction;
  issueDate?: IssueDateInput;
  /** Why (1–500 characters); kept with the void record. */
  reason: string;
}

// The bounded wait: `set_config('lock_timeout', …, true)` sits in the statement's own filter, which
// PostgreSQL evaluates on the fetched row before it locks (or waits for) it, so the wait is bounded in the
// same round trip, with no session state (PgBouncer-safe). UPDATE first (the common case: the counter
// exists); the upsert runs only for a new counter, or to tell a chronology refusal apart.
const LOCK_TIMEOUT_QUAL = `($6::text IS NULL OR set_config('lock_timeout', $6::text, true) IS NOT NULL)`;
const CHRONOLOGY_OK = `(NOT $8::boolean OR c.last_issue_date IS NULL OR $7::date IS NULL OR c.last_issue_date <= $7::date)`;

/** The counter UPDATE of one call shape: `d` dated, `c` dated and chronological, `n` undated; `t` timeout. */
type UpdateShape = 'n' | 'nt' | 'd' | 'dt' | 'c' | 'ct';

// The UPDATE carries only the terms the call's shape needs. With unnamed statements (the default, for
// poolers) PostgreSQL parses and plans it on every call and re-checks its filter each time a waiter on the
// row wakes; one statement with every term for every call was about half of ours' extra server CPU against
// the hand-written `UPDATE … RETURNING` (measured for issue 19's pooler bench). Dropped terms do nothing in their shape: without an
// issue date GREATEST keeps the stored date and the check passes; without chronology the check passes;
// without a timeout there is nothing to set. Parameters: $1–$5 (tenant, series, period, start, count),
// then the issue date if dated, then the timeout if any.
const nextUpdateSql = (shape: UpdateShape): string => {
  const dated = shape[0] !== 'n';
  const timeout = shape.endsWith('t');
  return `UPDATE tenantry_sequencer_counters AS c
   SET last_value = COALESCE(c.last_value, $4::bigint - 1) + $5::bigint${
     dated ? ', last_issue_date = GREATEST(c.last_issue_date, $6::date)' : ''
   }
 WHERE c.tenant = $1 AND c.series = $2 AND c.period = $3${
   timeout ? ` AND set_config('lock_timeout', $${dated ? 7 : 6}::text, true) IS NOT NULL` : ''
 }${shape[0] === 'c' ? ' AND (c.last_issue_date IS NULL OR c.last_issue_date <= $6::date)' : ''}
RETURNING c.last_value`;
};
const NEXT_UPDATES = new Map(
  (['n', 'nt', 'd', 'dt', 'c', 'ct'] as const).map((shape) => [
    shape,
    { name: `tenantry_seq_next_u4${shape}`, text: nextUpdateSql(shape) },
  ]),
);

const NEXT_UPSERT_SQL = `INSERT INTO tenantry_sequencer_counters AS c (tenant, series, period, last_value, last_issue_date)
SELECT $1, $2, $3, $4::bigint - 1 + $5::bigint, $7::date WHERE ${LOCK_TIMEOUT_QUAL}
ON CONFLICT (tenant, series, period) DO UPDATE
  SET last_value = COALESCE(c.last_value, $4::bigint - 1) + $5::bigint,
      last_issue_date = GREATEST(c.last_issue_date, EXCLUDED.last_issue_date)
  WHERE ${CHRONOLOGY_OK}
RETURNING c.last_value`;

/**
 * The PostgreSQL in-transaction sequencer (strongest form: the counter row lives in the same database
 * transaction as the document). Needs the migration (`migratePostgres`).
 * @throws ValidationError `VALIDATION_FAILED` on bad options
 * @example const seq = createPostgresSequencer({ lockTimeoutMs: 2000 });
 */
export function createPostgresSequencer(
  options: z.input<typeof PostgresSequencerOptionsSchema> & {
    clock?: Clock;
    /**
     * The pool `withNumber` and `insertWithNumber` take their connections from (a `pg` Pool). Needed only
     * by them; `next`/`nextBatch` run in the transaction you pass.
     */
    pool?: PgPoolLike;
  } = {},
): PostgresSequencer {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalidInput('postgres sequencer options');
  }
  let clock: Clock;
  let pool: PgPoolLike | undefined;
  let rest: Record<string, unknown>;
  try {
    ({ clock = systemClock, pool, ...rest } = options ?? {});
  } catch (e) {
    throw invalidInput('postgres sequencer options', e);
  }
  if (typeof clock?.now !== 'function')
    throw invalidInput('postgres sequencer options', undefined, ['clock']);
  const o = parseSequencerInput(PostgresSequencerOptionsSchema, rest, 'postgres sequencer options');
  if (pool !== undefined) {
    let ok = false;
    try {
      ok =
        typeof pool === 'object' &&
        pool !== null &&
        typeof pool.connect === 'function' &&
        typeof pool.query === 'function';
    } catch {
      ok = false;
    }
    if (!ok) throw invalidInput('postgres sequencer options', undefined, ['pool']);
  }
  const timeout = o.lockTimeoutMs === null ? null : `${o.lockTimeoutMs}ms`;
  const waitMs = o.lockTimeoutMs ?? 0;
  const combiner =
    pool !== undefined && o.combine !== undefined && o.combine.maxGroupSize > 1
      ? new Combiner<WriteRequest>(o.combine, (group) =>
          serveWriteGroup(pool as PgPoolLike, group, timeout, waitMs, o.namedStatements),
        )
      : undefined;

  const withNumber = async <T>(
    series: Series,
    opts: PostgresWithNumberOptions,
    write: (allocated: PostgresWriteContext) => Promise<T>,
  ): Promise<T> => {
    const req = resolveRequest(series, callOptions(opts, 1));
    if (pool === undefined)
      throw invalidInput('postgres sequencer options (withNumber needs { pool })', undefined, ['pool']);
    if (typeof write !== 'function') throw invalidInput('withNumber write callback', undefined, ['write']);
    const db = pool;
    return withSpan(
      'sequencer',
      'allocate',
      spanAttributes(req.key, 1),
      () =>
        new Promise<T>((resolve, reject) => {
          const request: WriteRequest = {
            series,
            req,
            write: bindToCurrentContext(write),
            resolve: resolve as (value: unknown) => void,
            reject,
            queuedAt: performance.now(),
          };
          if (combiner === undefined) void serveWriteGroup(db, [request], timeout, waitMs, o.namedStatements);
          else
            combiner.submit(
              `${req.key.tenant}\u0000${req.key.series}\u0000${req.key.period}\u0000${req.key.start}\u0000${series.chronology}`,
              request,
            );
        }),
    );
  };

  const query = <R>(db: PgQueryable, name: string, text: string, values: unknown[]) =>
    // An adapter's executor (Kysely, Drizzle, postgres.js) takes text and values only.
    o.namedStatements && (db as PgExecutor).clientKind === undefined
      ? (db as unknown as PgNamedQueryable).query<R>({ name, text, values })
      : db.query<R>(text, values);

  const allocate = async (
    series: Series,
    count: number,
    opts: PostgresAllocateOptions,
  ): Promise<AllocatedNumber[]> => {
    const req = resolveRequest(series, callOptions(opts, count));
    requireTransaction(opts?.tx as PostgresTransaction, count === 1 ? 'next' : 'nextBatch');
    return withSpan('sequencer', count === 1 ? 'allocate' : 'batch', spanAttributes(req.key, req.count), () =>
      run(series, req, opts?.tx),
    );
  };

  const run = async (
    series: Series,
    req: ReturnType<typeof resolveRequest>,
    tx: PostgresTransaction,
  ): Promise<AllocatedNumber[]> => {
    const { key } = req;
    const dated = req.issueDate !== undefined;
    const values = [
      key.tenant,
      key.series,
      key.period,
      key.start,
      req.count,
      timeout,
      req.issueDate ?? null,
      series.chronology,
    ];
    const shape =
      `${dated ? (series.chronology ? 'c' : 'd') : 'n'}${timeout === null ? '' : 't'}` as UpdateShape;
    const update = NEXT_UPDATES.get(shape) as { name: string; text: string };
    const updateValues: unknown[] = [key.tenant, key.series, key.period, key.start, req.count];
    if (dated) updateValues.push(req.issueDate);
    if (timeout !== null) updateValues.push(timeout);
    let rows: Array<{ last_value: string | null }>;
    try {
      ({ rows } = await query<{ last_value: string | null }>(tx, update.name, update.text, updateValues));
      if (rows.length === 0) {
        ({ rows } = await query<{ last_value: string | null }>(
          tx,
          'tenantry_seq_next_i3',
          NEXT_UPSERT_SQL,
          values,
        ));
      }
    } catch (e) {
      throw mapPgError(e, key, waitMs);
    }
    const row = rows[0];
    if (row?.last_value == null) {
      throw new SequencerError(
        'SEQUENCER_CHRONOLOGY_VIOLATION',
        `Issue date ${req.issueDate} is earlier than the last committed one in series ${key.series}; roll back`,
        { details: { tenant: key.tenant, series: key.series, period: key.period } },
      );
    }
    const last = Number(row.last_value);
    checkRange(key, last);
    return buildAllocations(series, req, last - req.count + 1);
  };

  const keyOf = (
    series: Series,
    opts: TenantOption & { issueDate?: IssueDateInput | undefined },
  ): CounterKey => resolveRequest(series, callOptions(opts)).key;

  const insertNumbered = async <R>(
    series: Series,
    insert: PostgresNumberedInsert,
    opts: PostgresInsertWithNumberOptions = {},
  ): Promise<InsertedWithNumber<R>> => {
    const req = resolveRequest(series, callOptions(opts, 1));
    let db: PgQueryable | undefined;
    try {
      db = opts?.db ?? pool;
    } catch (e) {
      throw invalidInput('insertWithNumber options', e, ['db']);
    }
    if (typeof (db as Partial<PgQueryable> | undefined)?.query !== 'function')
      throw invalidInput(
        'insertWithNumber options (it needs { db }, or a sequencer created with { pool })',
        undefined,
        ['db'],
      );
    return withSpan('sequencer', 'allocate', spanAttributes(req.key, 1), () =>
      insertWithNumber<R>(db as PgQueryable, series, req, insert, {
        timeout,
        waitMs,
        namedStatements: o.namedStatements,
        ownPool: db === pool,
      }),
    );
  };

  return Object.freeze({
    withNumber,
    insertWithNumber: insertNumbered,
    next: async (series: Series, opts: PostgresAllocateOptions) =>
      (await allocate(series, 1, opts))[0] as AllocatedNumber,
    nextBatch: allocate,
    async lastCommitted(series: Series, opts: PostgresReadOptions) {
      const key = keyOf(series, opts);
      try {
        const { rows } = await requireDb(opts).query<{ last_value: string | null }>(
          'SELECT last_value FROM tenantry_sequencer_counters WHERE tenant = $1 AND series = $2 AND period = $3',
          [key.tenant, key.series, key.period],
        );
        return toNumber(rows[0]?.last_value);
      } catch (e) {
        throw mapPgError(e, key, waitMs);
      }
    },
    async void(series: Series, number: number, opts: PostgresVoidOptions) {
      const key = keyOf(series, opts);
      const record = parseVoid(number, opts?.reason, clock);
      requireTransaction(opts?.tx as PostgresTransaction, 'void');
      return withSpan('sequencer', 'void', spanAttributes(key), async () => {
        await pgRecordVoid(opts?.tx, key, record, waitMs);
        return record;
      });
    },
    voids: async (series: Series, opts: PostgresReadOptions) =>
      pgListVoids(requireDb(opts), keyOf(series, opts)),
  });
}
