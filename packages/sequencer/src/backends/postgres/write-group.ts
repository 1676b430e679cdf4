import type { PgExecutor, PgPoolClientLike, PgPoolLike } from '@tenantry/core';
import { isTenantryError, withSpan } from '@tenantry/core';
import { corkWrites, isPipelinedClient } from '@tenantry/core/postgres';
import { SequencerError } from '../../errors.js';
import {
  type AllocatedNumber,
  buildAllocations,
  type CounterKey,
  checkRange,
  type ResolvedRequest,
  type Series,
} from '../../series.js';
import { spanAttributes } from '../../telemetry.js';
import { mapPgError, type PgNamedQueryable } from './errors.js';
import type { PostgresTransaction } from './sequencer.js';

/** What the write callback of `withNumber` receives: the number and the transaction to write in. */
export interface PostgresWriteContext extends AllocatedNumber {
  /**
   * The sequencer's open transaction (a `pg` PoolClient inside `BEGIN`, and inside a savepoint when the
   * request was combined with others). Write the document with it; never `COMMIT`, `ROLLBACK` or release
   * it: the sequencer does, after every request of the group has written. Once the request is settled it
   * refuses statements (`SEQUENCER_TX_ENDED`): the connection is back in the pool.
   */
  readonly tx: PostgresTransaction;
}

/** One request of a group: its series, resolved key, bound write callback and settlement. @internal */
export interface WriteRequest {
  readonly series: Series;
  readonly req: ResolvedRequest;
  /** The caller's write, bound to the caller's tenant context. */
  readonly write: (ctx: PostgresWriteContext) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly queuedAt: number;
}

/** The outcome of one request inside the group (settled only after COMMIT). */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const LOCK_TIMEOUT_QUAL = `($5::text IS NULL OR set_config('lock_timeout', $5::text, true) IS NOT NULL)`;
// BEGIN sets this transaction-local marker in the same message. On a pipelined connection the locking
// statement is written before BEGIN's reply arrives; should BEGIN fail, the statement would run
// autocommitted and consume a number: the marker makes it match no row instead (fail closed).
const BEGIN_SQL = `BEGIN; SELECT set_config('tenantry.sequencer_tx', 'on', true)`;
const IN_OUR_TX = `current_setting('tenantry.sequencer_tx', true) = 'on'`;
// Written right behind a pipelined write's last statement, in the same message as the early COMMIT:
// proves that COMMIT ends the transaction BEGIN opened (a write that ended it with ROLLBACK/COMMIT would
// have COMMIT answered with a mere warning, and the number would be handed out again). One message: if
// the probe fails (an aborted transaction), the server skips the COMMIT behind it.
const PROBE_AND_COMMIT_SQL = `SELECT coalesce(${IN_OUR_TX}, false) AS ours; COMMIT`;
// Lock the counter row (creating it the first time) without moving it, and learn the mark, the latest
// issue date and this transaction's id (to ask the server about the outcome if COMMIT's reply is lost).
const LOCK_UPDATE_SQL = `UPDATE tenantry_sequencer_counters AS c SET last_value = c.last_value
 WHERE c.tenant = $1 AND c.series = $2 AND c.period = $3 AND $4::bigint IS NOT NULL AND ${LOCK_TIMEOUT_QUAL} AND ${IN_OUR_TX}
RETURNING c.last_value, to_char(c.last_issue_date, 'YYYY-MM-DD') AS last_issue_date, txid_current()::text AS xid`;
const LOCK_UPSERT_SQL = `INSERT INTO tenantry_sequencer_counters AS c (tenant, series, period, last_value)
SELECT $1, $2, $3, NULL WHERE $4::bigint IS NOT NULL AND ${LOCK_TIMEOUT_QUAL} AND ${IN_OUR_TX}
ON CONFLICT (tenant, series, period) DO UPDATE SET last_value = c.last_value
RETURNING c.last_value, to_char(c.last_issue_date, 'YYYY-MM-DD') AS last_issue_date, txid_current()::text AS xid`;
// Advance once by the number of successful writes.
const ADVANCE_SQL = `UPDATE tenantry_sequencer_counters AS c
   SET last_value = $4::bigint, last_issue_date = GREATEST(c.last_issue_date, $5::date)
 WHERE c.tenant = $1 AND c.series = $2 AND c.period = $3`;
const SAVEPOINT = 'tenantry_sequencer_request';
// A group of one takes its number in the locking statement itself (as `next` does): one round trip
// fewer, and no advance afterwards. The chronology check is in the statement ($7 date, $8 chronology):
// no row back means the issue date is earlier than the last committed one.
const CHRONOLOGY_OK = `(NOT $7::boolean OR c.last_issue_date IS NULL OR $6::date IS NULL OR c.last_issue_date <= $6::date)`;
const ONE_UPDATE_SQL = `UPDATE tenantry_sequencer_counters AS c
   SET last_value = COALESCE(c.last_value, $4::bigint - 1) + 1,
       last_issue_date = GREATEST(c.last_issue_date, $6::date)
 WHERE c.tenant = $1 AND c.series = $2 AND c.period = $3 AND ${LOCK_TIMEOUT_QUAL} AND ${IN_OUR_TX} AND ${CHRONOLOGY_OK}
RETURNING c.last_value, txid_current()::text AS xid`;
const ONE_UPSERT_SQL = `INSERT INTO tenantry_sequencer_counters AS c (tenant, series, period, last_value, last_issue_date)
SELECT $1, $2, $3, $4::bigint, $6::date WHERE ${LOCK_TIMEOUT_QUAL} AND ${IN_OUR_TX}
ON CONFLICT (tenant, series, period) DO UPDATE
  SET last_value = COALESCE(c.last_value, $4::bigint - 1) + 1,
      last_issue_date = GREATEST(c.last_issue_date, EXCLUDED.last_issue_date)
  WHERE ${CHRONOLOGY_OK}
RETURNING c.last_value, txid_current()::text AS xid`;

/** The names of the statements above when `namedStatements` is on (one prepared statement each). */
const STATEMENT_NAMES = new Map([
  [LOCK_UPDATE_SQL, 'tenantry_seq_wg_lock_u'],
  [LOCK_UPSERT_SQL, 'tenantry_seq_wg_lock_i'],
  [ONE_UPDATE_SQL, 'tenantry_seq_wg_one_u'],
  [ONE_UPSERT_SQL, 'tenantry_seq_wg_one_i'],
]);

const noFlush = (): void => undefined;

type LockRow = { last_value: string | null; last_issue_date?: string | null; xid: string };

/** The error of a request whose write succeeded but whose transaction did not commit. */
const commitFailed = (key: CounterKey, cause: unknown): SequencerError =>
  new SequencerError(
    'SEQUENCER_COMMIT_FAILED',
    `The transaction serving this request of series ${key.series} did not commit; nothing was written or consumed: retry`,
    { cause, details: { tenant: key.tenant, series: key.series, period: key.period } },
  );

/** A failure of the group as a whole (not of one request's write). */
class GroupFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly beforeAnyWrite: boolean,
  ) {
    super('group failed');
  }
}

/**
 * Serve one group of requests of one (tenant, series, period) in one transaction on a connection of
 * `pool`: lock the counter row, run each write in order inside its own savepoint (a single request runs
 * without one), hand number `mark + k + 1` to the k-th request whose write has not failed (a failed write
 * rolls back to its savepoint and its number goes to the next request), advance the counter once by the
 * number of successful writes, COMMIT, and only then settle every request. If COMMIT's reply is lost, the
 * outcome is read from the server (`txid_status`) on another connection. Never rejects.
 * @internal
 */
export async function serveWriteGroup(
  pool: PgPoolLike,
  group: readonly WriteRequest[],
  lockTimeout: string | null,
  waitMs: number,
  namedStatements = false,
): Promise<void> {
  const first = group[0];
  if (first === undefined) return;
  const { key } = first.req;
  const outcomes: Array<Outcome | undefined> = new Array(group.length);
  let client: PgPoolClientLike | undefined;
  let xid: string | undefined;
  let destroy = false;
  let listening = false;
  let groupFailure: GroupFailure | undefined;
  let txEnded: (() => void) | undefined;
  try {
    await withSpan('sequencer', 'group', spanAttributes(key, group.length), async () => {
      try {
        await run();
      } catch (e) {
        groupFailure = e instanceof GroupFailure ? e : new GroupFailure(e, false);
        // The span's error.type is the cause's code when it has one.
        throw isTenantryError(groupFailure.cause) ? groupFailure.cause : e;
      }
    });
    async function run(): Promise<void> {
      try {
        client = await pool.connect();
      } catch (e) {
        throw new GroupFailure(mapPgError(e, key, waitMs), true);
      }
      // A `pg` client checked out of a pool emits 'error' when its connection breaks (a terminated
      // backend); with no listener that would crash the host. The failing query reports it instead.
      (client as Partial<EventTarget_>).on?.('error', ignore);
      listening = true;
      // The write gets a view of the client that notes the promise of the last statement it issued: the
      // transaction status is read once that one is answered (a ROLLBACK left running shows). On a
      // pipelined connection, a group of one whose write hands that promise back unawaited
      // (`(n) => n.tx.query(…)`) has nothing left to run, so a probe and COMMIT are written right behind it.
      // After that the view refuses statements (they would run after COMMIT, on a released connection).
      let lastIssued: unknown;
      let handedOver = false;
      // Set before the connection goes back to the pool: a `tx` kept past the request must not reach
      // the connection's next holder (another request, another tenant).
      let ended = false;
      txEnded = () => {
        ended = true;
      };
      const pipelinedNow = isPipelinedClient(client);
      const raw = client;
      const trackedQuery = (...args: unknown[]): unknown => {
        if (ended)
          return Promise.reject(
            new SequencerError(
              'SEQUENCER_TX_ENDED',
              'A statement was issued on a withNumber transaction after its request was settled; it was not sent',
              { details: { tenant: key.tenant, series: key.series, period: key.period } },
            ),
          );
        if (handedOver)
          return Promise.reject(
            new SequencerError(
              'SEQUENCER_STORE_FAILED',
              'A withNumber write issued a statement after handing back its last one (the transaction was already committing)',
              { details: { tenant: key.tenant, series: key.series, period: key.period } },
            ),
          );
        const p = (raw.query as (...a: unknown[]) => unknown).apply(raw, args);
        lastIssued = p;
        return p;
      };
      const tx = new Proxy(raw, {
        get(target, prop) {
          if (prop === 'query') return trackedQuery;
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      }) as unknown as PostgresTransaction;
      // With `namedStatements`, the sequencer's own statements are parsed and planned once per
      // connection (measured: the locking statement's parse and plan cost more server time than the
      // rest of an allocation); an adapter's executor takes text and values only.
      const named = namedStatements && (client as PgExecutor).clientKind === undefined;
      const q = async <R>(text: string, values?: unknown[], beforeAnyWrite = false) => {
        try {
          const name = named && values !== undefined ? STATEMENT_NAMES.get(text) : undefined;
          if (name !== undefined)
            return await (client as unknown as PgNamedQueryable).query<R>({ name, text, values });
          return await (client as PgPoolClientLike).query<R>(text, values);
        } catch (e) {
          throw new GroupFailure(mapPgError(e, key, waitMs), beforeAnyWrite);
        }
      };
      // A pipelined `pg` client (`new pg.Pool({ pipeline: true })`) writes a statement without waiting
      // for the previous reply: BEGIN goes out with the locking statement, and each savepoint with the
      // write after it (one round trip each instead of two).
      const pipelined = isPipelinedClient(client);
      // Pipelined, BEGIN and the locking statement leave in one socket write (one segment, one wake-up
      // of the server); released as soon as the locking statement is issued, before any await.
      let flushBegin = pipelined ? corkWrites(client) : noFlush;
      let begun: Promise<unknown> | undefined;
      if (pipelined) {
        begun = (client as PgPoolClientLike).query(BEGIN_SQL).then(
          () => undefined,
          (e: unknown) => e ?? new Error('BEGIN failed'),
        );
      } else await q(BEGIN_SQL, undefined, true);
      /** BEGIN's outcome on a pipelined connection (answered before any later statement). */
      const checkBegun = async () => {
        const failed = await begun;
        if (failed !== undefined) throw new GroupFailure(mapPgError(failed, key, waitMs), true);
      };
      let earlyCommit: Promise<Settled> | undefined;
      let earlyProbe: Promise<Settled> | undefined;
      const values = [key.tenant, key.series, key.period, key.start, lockTimeout];
      // A group of one: the number is taken (and chronology checked) by the locking statement.
      const single = group.length === 1;
      const only = group[0] as WriteRequest;
      let rows: LockRow[];
      const lock = async <R>(text: string, v: unknown[]) => {
        try {
          // `q` issues the statement before its first await: the corked BEGIN goes out with it.
          const issued = q<R>(text, v, true);
          flushBegin();
          return await issued;
        } finally {
          flushBegin();
          await checkBegun();
        }
      };
      if (single) {
        const v = [...values, only.req.issueDate ?? null, only.series.chronology];
        rows = (await lock<LockRow>(ONE_UPDATE_SQL, v)).rows;
        if (rows.length === 0) rows = (await lock<LockRow>(ONE_UPSERT_SQL, v)).rows;
      } else {
        rows = (await lock<LockRow>(LOCK_UPDATE_SQL, values)).rows;
        if (rows.length === 0) rows = (await lock<LockRow>(LOCK_UPSERT_SQL, values)).rows;
      }
      flushBegin = noFlush;
      const row = rows[0];
      if (row === undefined) {
        if (!single) throw new GroupFailure(commitFailed(key, undefined), true);
        outcomes[0] = {
          ok: false,
          error: new SequencerError(
            'SEQUENCER_CHRONOLOGY_VIOLATION',
            `Issue date ${only.req.issueDate} is earlier than the last committed one in series ${key.series}`,
            { details: { tenant: key.tenant, series: key.series, period: key.period } },
          ),
        };
        throw new GroupFailure(outcomes[0].error, false);
      }
      xid = row.xid;
      const mark = row.last_value === null ? key.start - 1 : Number(row.last_value) - (single ? 1 : 0);
      // The group of one was checked in SQL; a group checks each date against this one.
      let lastDate = single ? null : (row.last_issue_date ?? null);
      let next = mark + 1;
      const savepoints = group.length > 1;
      let hasSavepoint = false;
      let savepointFresh = false; // a savepoint exists and nothing was written since it was set
      let successes = 0;
      // The last successful write, until a later statement shows the transaction was fine after it: a
      // write that caught a failed statement itself leaves the transaction aborted, and pg may report
      // that status ('E') only when the next statement is answered (25P02).
      let pending: { index: number; dateBefore: string | null } | undefined;
      const swallowed = () =>
        new SequencerError(
          'SEQUENCER_STORE_FAILED',
          'The write returned but left the transaction aborted (a failed statement was caught); its document was not written',
          { details: { tenant: key.tenant, series: key.series, period: key.period } },
        );
      /** Run a statement after a write; `false` when it showed the last write aborted (undone here). */
      const afterWrite = async (text: string, values?: unknown[]): Promise<boolean> => {
        try {
          await (client as PgPoolClientLike).query(text, values);
          pending = undefined;
          return true;
        } catch (e) {
          const p = pending;
          if (p === undefined || (e as { code?: unknown } | null)?.code !== '25P02')
            throw new GroupFailure(mapPgError(e, key, waitMs), false);
          outcomes[p.index] = { ok: false, error: swallowed() };
          pending = undefined;
          if (!savepoints) throw new GroupFailure(swallowed(), false);
          await q(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
          savepointFresh = true;
          successes--;
          next--;
          lastDate = p.dateBefore;
          return false;
        }
      };
      /** Why request `r` cannot take number `next` now (chronology, range), or undefined. */
      const refusal = (r: WriteRequest): unknown => {
        if (
          r.series.chronology &&
          r.req.issueDate !== undefined &&
          lastDate !== null &&
          r.req.issueDate < lastDate
        ) {
          return new SequencerError(
            'SEQUENCER_CHRONOLOGY_VIOLATION',
            `Issue date ${r.req.issueDate} is earlier than the last committed one in series ${key.series}`,
            { details: { tenant: key.tenant, series: key.series, period: key.period } },
          );
        }
        try {
          checkRange(key, next);
        } catch (error) {
          return error;
        }
        return undefined;
      };
      for (let i = 0; i < group.length; i++) {
        const r = group[i] as WriteRequest;
        // Pipelined: the savepoint statement goes out with the write's statements and is checked after
        // the write (below). Only for a request that will write: a refused one takes the sequential path,
        // so its refusal is decided on a confirmed state.
        let savepointSent: Promise<Settled> | undefined;
        // Pipelined, the savepoint, the write's statements issued before its first await and (a group
        // of one) the probe + COMMIT behind them leave in one socket write. No await until released.
        let flushWrite = noFlush;
        if (savepoints && !savepointFresh) {
          if (pipelined && refusal(r) === undefined) {
            flushWrite = corkWrites(client);
            savepointSent = settle(
              (client as PgPoolClientLike).query(
                hasSavepoint
                  ? `RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}`
                  : `SAVEPOINT ${SAVEPOINT}`,
              ),
            );
          } else if (hasSavepoint) {
            if (await afterWrite(`RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}`))
              savepointFresh = true;
          } else {
            await q(`SAVEPOINT ${SAVEPOINT}`);
            hasSavepoint = true;
            savepointFresh = true;
          }
        }
        const refused = refusal(r);
        if (refused !== undefined) {
          flushWrite();
          outcomes[i] = { ok: false, error: refused };
          continue;
        }
        let allocated: AllocatedNumber;
        try {
          allocated = buildAllocations(r.series, r.req, next)[0] as AllocatedNumber;
        } catch (e) {
          flushWrite();
          throw e;
        }
        let error: unknown;
        let failed = false;
        let value: unknown;
        try {
          let returned: unknown;
          try {
            if (pipelined && flushWrite === noFlush) flushWrite = corkWrites(client);
            returned = r.write(Object.freeze({ ...allocated, tx }));
            if (single && pipelinedNow && returned !== undefined && returned === lastIssued) {
              handedOver = true;
              earlyCommit = settle((client as PgPoolClientLike).query(PROBE_AND_COMMIT_SQL));
              earlyProbe = earlyCommit;
            }
          } finally {
            flushWrite();
          }
          value = await returned;
        } catch (e) {
          failed = true;
          error = e;
        }
        if (savepointSent !== undefined) {
          const sp = await savepointSent;
          if (!sp.ok) {
            const p = pending;
            if (p === undefined || (sp.error as { code?: unknown } | null)?.code !== '25P02')
              throw new GroupFailure(mapPgError(sp.error, key, waitMs), false);
            // The previous write left the transaction aborted: the savepoint and every statement of this
            // write were refused. Undo the previous one (back to its savepoint, which still stands) and
            // run this request again from there, with the number the previous one gave up.
            outcomes[p.index] = { ok: false, error: swallowed() };
            pending = undefined;
            await q(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
            savepointFresh = true;
            successes--;
            next--;
            lastDate = p.dateBefore;
            i--;
            continue;
          }
          pending = undefined;
          hasSavepoint = true;
        }
        // Statements the write issued without waiting for them: the status is the one after the last.
        if (!handedOver && lastIssued !== undefined) await settle(Promise.resolve(lastIssued));
        lastIssued = undefined;
        // With COMMIT already sent, the status may be past it ('I'): the probe written before COMMIT
        // tells whether the transaction was still ours (an aborted one fails it; COMMIT's answer tells).
        let status: string | null | undefined;
        if (earlyProbe !== undefined) {
          const probe = await earlyProbe;
          const ours =
            probe.ok &&
            (nth(probe.value, 0) as { rows?: Array<{ ours?: unknown }> } | undefined)?.rows?.[0]?.ours ===
              true;
          status = probe.ok && !ours ? 'I' : 'T';
        } else status = tx.getTransactionStatus?.();
        if (status === 'I' || status === null) {
          // The write ended the transaction itself (COMMIT/ROLLBACK) or broke the connection.
          throw new GroupFailure(
            failed
              ? error
              : new SequencerError(
                  'SEQUENCER_STORE_FAILED',
                  'A withNumber write ended the sequencer transaction (COMMIT/ROLLBACK) or lost its connection',
                  { details: { tenant: key.tenant, series: key.series, period: key.period } },
                ),
            false,
          );
        }
        if (!failed && status === 'E') {
          failed = true;
          error = swallowed();
        }
        if (!failed) {
          outcomes[i] = { ok: true, value };
          pending = { index: i, dateBefore: lastDate };
          next++;
          successes++;
          savepointFresh = false;
          if (r.req.issueDate !== undefined && (lastDate === null || r.req.issueDate > lastDate))
            lastDate = r.req.issueDate;
          continue;
        }
        outcomes[i] = { ok: false, error };
        if (!savepoints) throw new GroupFailure(error, false);
        // Back to the savepoint: the failed write leaves nothing, and its number goes to the next request.
        await q(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
        savepointFresh = true;
      }
      // Advance once by the number of successful writes (again if that showed the last write aborted).
      while (successes > 0 && !single) {
        if (await afterWrite(ADVANCE_SQL, [key.tenant, key.series, key.period, next - 1, lastDate])) break;
      }
      let commit: { command?: string } | undefined;
      // An ERROR the server answered to the probe + COMMIT message: nothing committed, and the session is
      // alive to say so (the probe failed and COMMIT was skipped, or COMMIT itself failed).
      let refused: { code?: unknown } | undefined;
      try {
        if (earlyCommit !== undefined) {
          const c = await earlyCommit;
          if (c.ok) commit = nth(c.value, 1) as { command?: string };
          else if ((c.error as { severity?: unknown } | null)?.severity === 'ERROR') {
            refused = c.error as { code?: unknown };
            commit = { command: 'ROLLBACK' };
          } else throw c.error; // the connection broke: ask the server below
        } else commit = (await (client as PgPoolClientLike).query('COMMIT')) as { command?: string };
      } catch (e) {
        destroy = true;
        if ((await commitStatus(pool, xid)) === 'committed') return;
        throw new GroupFailure(e, false);
      }
      if (commit.command !== undefined && commit.command !== 'COMMIT') {
        // PostgreSQL answers ROLLBACK to the COMMIT of an aborted transaction: a group of one whose write
        // caught a failed statement itself (with more requests, the savepoint statements catch it).
        // The probe refused by an aborted transaction (25P02) is that case too.
        if (single && outcomes[0]?.ok && (refused === undefined || refused.code === '25P02'))
          outcomes[0] = { ok: false, error: swallowed() };
        throw new GroupFailure(refused ?? new Error(`COMMIT answered ${commit.command}`), false);
      }
    }
  } catch (e) {
    const failure = groupFailure ?? (e instanceof GroupFailure ? e : new GroupFailure(e, false));
    destroy = true;
    await client?.query('ROLLBACK').catch(() => undefined);
    // A connection that broke before COMMIT was sent rolled the transaction back; one that broke during
    // COMMIT was asked about above, and only an unanswerable question leaves the outcome unknown.
    const unknown = failure.cause instanceof UnknownOutcome;
    for (let i = 0; i < group.length; i++) {
      const o = outcomes[i];
      if (o !== undefined && !o.ok) continue; // its own error (nothing of it was written either way)
      const error = unknown
        ? new SequencerError(
            'SEQUENCER_COMMIT_UNKNOWN',
            `The connection broke during COMMIT and the outcome of series ${key.series}'s transaction is unknown; look the document up before retrying`,
            { details: { tenant: key.tenant, series: key.series, period: key.period } },
          )
        : failure.beforeAnyWrite && failure.cause instanceof SequencerError
          ? failure.cause
          : commitFailed(key, failure.cause);
      outcomes[i] = { ok: false, error };
    }
  } finally {
    txEnded?.();
    if (listening) (client as Partial<EventTarget_>).removeListener?.('error', ignore);
    client?.release(destroy ? true : undefined);
  }
  for (let i = 0; i < group.length; i++) {
    const r = group[i] as WriteRequest;
    const o = outcomes[i];
    if (o?.ok) r.resolve(o.value);
    else r.reject(o === undefined ? commitFailed(key, undefined) : o.error);
  }
}

class UnknownOutcome extends Error {}

/** The `i`-th result of a multi-statement simple query (`pg` answers an array). */
const nth = (r: unknown, i: number): unknown => (Array.isArray(r) ? r[i] : undefined);

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };
/** A promise's outcome, without an unhandled rejection while later replies of the pipeline arrive. */
const settle = (p: Promise<unknown>): Promise<Settled> =>
  p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );

/** The listener methods of a `pg` client (an EventEmitter), when present. */
interface EventTarget_ {
  on(event: 'error', listener: () => void): unknown;
  removeListener(event: 'error', listener: () => void): unknown;
}
const ignore = (): void => undefined;

/**
 * Ask the server, on another connection, whether transaction `xid` committed (after COMMIT's reply was
 * lost). Throws {@link UnknownOutcome} (wrapped by the caller) when it cannot tell.
 */
async function commitStatus(pool: PgPoolLike, xid: string): Promise<'committed' | 'aborted'> {
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      const { rows } = await pool.query<{ s: string | null }>('SELECT txid_status($1::bigint) AS s', [xid]);
      const s = rows[0]?.s;
      if (s === 'committed' || s === 'aborted') return s;
      if (s === null || s === undefined) break; // too old to know (or unknown xid)
    } catch {
      // the server may be restarting: try again
    }
    await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
  }
  throw new GroupFailure(new UnknownOutcome('commit outcome unknown'), false);
}
