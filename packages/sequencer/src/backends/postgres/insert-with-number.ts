import { createHash } from 'node:crypto';
import { type PgPoolLike, type PgQueryable, isTenantryError } from '@tenantry/core';
import { z } from 'zod';
import { SequencerError } from '../../errors.js';
import { formatNumber } from '../../format.js';
import { invalidInput, parseSequencerInput } from '../../input.js';
import {
  type AllocatedNumber,
  buildAllocations,
  checkRange,
  MAX_SEQUENCE_NUMBER,
  type ResolvedRequest,
  type Series,
} from '../../series.js';
import { quoteIdent } from '@tenantry/core/postgres';
import { mapPgError, type PgNamedQueryable, UNAVAILABLE } from './errors.js';

// Quoted as written ("Invoices" stays upper case), so only names that need no escaping are taken.
// `__proto__` is refused: as an object key it names the prototype, not a column.
const IDENTIFIER = /^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const TABLE =
  /^(?!__proto__(\.|$))[A-Za-z_][A-Za-z0-9_]{0,62}(\.(?!__proto__$)[A-Za-z_][A-Za-z0-9_]{0,62})?$/;
// The statement's own output columns: a `returning` column may not take these names.
const RESERVED_PREFIX = 'tenantry_seq_';
const Identifier = z.string().regex(IDENTIFIER, 'must be an SQL identifier: letters, digits, _ (max 63)');
const isIdentifier = (v: unknown): v is string => typeof v === 'string' && IDENTIFIER.test(v);
/** A value the driver can send as a parameter (a symbol or a function would be sent as its text). */
const isSendable = (v: unknown): boolean => typeof v !== 'symbol' && typeof v !== 'function';

/** What {@link PostgresSequencer.insertWithNumber} inserts, validated with zod. */
export const PostgresNumberedInsertSchema = z
  .object({
    /** The document table, optionally schema-qualified (`invoices`, `billing.invoices`); each part quoted as written. */
    table: z.string().regex(TABLE, 'must be table or schema.table (letters, digits, _)'),
    /** The column that receives the number (an integer column: `bigint` holds every number). */
    numberColumn: Identifier,
    /** A text column that receives the number rendered with the series' format, if any. */
    formattedColumn: Identifier.optional(),
    /** A text column that receives the tenant id the number was taken for (the counter's tenant), if any. */
    tenantColumn: Identifier.optional(),
    /**
     * The other columns and their values, sent as parameters; PostgreSQL casts each to its column's
     * type. A column whose value is `undefined` is left out (it gets its default). @default {}
     */
    values: z
      .record(Identifier, z.unknown().refine(isSendable, 'must not be a symbol or a function'))
      .refine((v) => Object.keys(v).length <= 1000, 'at most 1000 columns')
      .default({}),
    /** Columns of the inserted row to return in `row` (besides the number); not `tenantry_seq_*`. @default [] */
    returning: z
      .array(
        Identifier.refine((c) => !c.startsWith(RESERVED_PREFIX), `must not start with ${RESERVED_PREFIX}`),
      )
      .max(1000)
      .default([]),
  })
  .strict()
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    const named = [
      v.numberColumn,
      ...(v.formattedColumn === undefined ? [] : [v.formattedColumn]),
      ...(v.tenantColumn === undefined ? [] : [v.tenantColumn]),
      ...Object.keys(v.values),
    ];
    for (const c of named) {
      if (seen.has(c))
        ctx.addIssue({ code: 'custom', path: ['values', c], message: `column ${c} is named twice` });
      seen.add(c);
    }
    if (new Set(v.returning).size !== v.returning.length)
      ctx.addIssue({ code: 'custom', path: ['returning'], message: 'a column is named twice' });
  });
export type PostgresNumberedInsert = z.input<typeof PostgresNumberedInsertSchema>;

/** The result of {@link PostgresSequencer.insertWithNumber}: the number, and the columns asked for in `returning`. */
export interface InsertedWithNumber<R = Record<string, unknown>> extends AllocatedNumber {
  /** The inserted row's `returning` columns (an empty object when none were asked for). */
  readonly row: R;
}

/** The checked insert: columns and values as pairs (no object keys, so no prototype to reach). */
interface CheckedInsert {
  readonly table: string;
  readonly numberColumn: string;
  readonly formattedColumn: string | undefined;
  readonly tenantColumn: string | undefined;
  readonly columns: readonly string[];
  readonly values: readonly unknown[];
  readonly returning: readonly string[];
}

const KEYS = new Set(['table', 'numberColumn', 'formattedColumn', 'tenantColumn', 'values', 'returning']);

/**
 * The schema's rules checked by hand for the common, valid call (zod's parse was a visible share of the
 * client's CPU per one-round-trip insert); `undefined` sends anything else through zod, which reports it.
 * Every property is read once, into locals (a getter or an iterator cannot answer the check one value
 * and the statement another).
 */
function wellFormed(input: unknown): CheckedInsert | undefined {
  try {
    return checkByHand(input);
  } catch {
    return undefined; // a throwing getter or proxy: zod reports it
  }
}
function checkByHand(input: unknown): CheckedInsert | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype)
    return undefined;
  const v = input as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!KEYS.has(k)) return undefined;
  const { table, numberColumn, formattedColumn, tenantColumn } = v;
  const values = v.values ?? {};
  const returningInput = v.returning ?? [];
  if (
    typeof table !== 'string' ||
    !TABLE.test(table) ||
    !isIdentifier(numberColumn) ||
    (formattedColumn !== undefined && !isIdentifier(formattedColumn)) ||
    (tenantColumn !== undefined && !isIdentifier(tenantColumn)) ||
    typeof values !== 'object' ||
    values === null ||
    Object.getPrototypeOf(values) !== Object.prototype ||
    !Array.isArray(returningInput)
  )
    return undefined;
  const length = returningInput.length;
  if (length > 1000) return undefined;
  const returning: string[] = [];
  for (let i = 0; i < length; i++) {
    const c: unknown = returningInput[i];
    if (!isIdentifier(c) || c.startsWith(RESERVED_PREFIX) || returning.includes(c)) return undefined;
    returning.push(c);
  }
  const seen = new Set<string>([numberColumn]);
  for (const c of [formattedColumn, tenantColumn]) {
    if (c === undefined) continue;
    if (seen.has(c as string)) return undefined;
    seen.add(c as string);
  }
  const keys = Object.keys(values);
  if (keys.length > 1000) return undefined;
  const columns: string[] = [];
  const sent: unknown[] = [];
  for (const c of keys) {
    if (!isIdentifier(c) || seen.has(c)) return undefined;
    seen.add(c);
    const value: unknown = (values as Record<string, unknown>)[c];
    if (!isSendable(value)) return undefined;
    if (value === undefined) continue;
    columns.push(c);
    sent.push(value);
  }
  return {
    table,
    numberColumn,
    formattedColumn: formattedColumn as string | undefined,
    tenantColumn: tenantColumn as string | undefined,
    columns,
    values: sent,
    returning,
  };
}

/** zod's parse, in the same shape. zod drops an own `__proto__` key of a record: refused here instead. */
function parsedWithZod(insert: unknown): CheckedInsert {
  let protoKey = false;
  try {
    const v = (insert as { values?: unknown } | null)?.values;
    protoKey = typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__');
  } catch {
    // a hostile object: zod reports it
  }
  if (protoKey) throw invalidInput('numbered insert', undefined, ['values', '__proto__']);
  return fromParsed(parseSequencerInput(PostgresNumberedInsertSchema, insert, 'numbered insert'));
}

/** The zod path's output in the same shape (undefined values left out). */
function fromParsed(p: z.output<typeof PostgresNumberedInsertSchema>): CheckedInsert {
  const columns: string[] = [];
  const values: unknown[] = [];
  for (const [c, value] of Object.entries(p.values)) {
    if (value === undefined) continue;
    columns.push(c);
    values.push(value);
  }
  return {
    table: p.table,
    numberColumn: p.numberColumn,
    formattedColumn: p.formattedColumn,
    tenantColumn: p.tenantColumn,
    columns,
    values,
    returning: p.returning,
  };
}

const quoteTable = (name: string): string => name.split('.').map(quoteIdent).join('.');

/**
 * The counter UPDATE of the one-statement form: the shape of `next`'s (terms only where the call needs
 * them) plus the range check, so that an exhausted series takes no number instead of committing one
 * past `Number.MAX_SAFE_INTEGER`. Parameters: $1–$4 (tenant, series, period, start), then the issue date
 * if dated, then the timeout if any.
 */
function counterUpdateSql(dated: boolean, chronology: boolean, timeout: boolean): string {
  const next = 'COALESCE(c.last_value, $4::bigint - 1) + 1';
  return `UPDATE tenantry_sequencer_counters AS c
   SET last_value = ${next}${dated ? ', last_issue_date = GREATEST(c.last_issue_date, $5::date)' : ''}
 WHERE c.tenant = $1 AND c.series = $2 AND c.period = $3 AND ${next} <= ${MAX_SEQUENCE_NUMBER}${
   timeout ? ` AND set_config('lock_timeout', $${dated ? 6 : 5}::text, true) IS NOT NULL` : ''
 }${dated && chronology ? ' AND (c.last_issue_date IS NULL OR c.last_issue_date <= $5::date)' : ''}
RETURNING c.last_value`;
}

// Creates the counter row of a new series or period (no number issued yet), waiting for a row another
// transaction is creating no longer than the lock timeout ($4), like the UPDATE.
const CREATE_COUNTER_SQL = `INSERT INTO tenantry_sequencer_counters (tenant, series, period, last_value, last_issue_date)
SELECT $1, $2, $3, NULL, NULL WHERE ($4::text IS NULL OR set_config('lock_timeout', $4::text, true) IS NOT NULL)
ON CONFLICT (tenant, series, period) DO NOTHING`;
const READ_COUNTER_SQL = `SELECT last_value, to_char(last_issue_date, 'YYYY-MM-DD') AS last_issue_date FROM tenantry_sequencer_counters
WHERE tenant = $1 AND series = $2 AND period = $3`;

/** The statement text is a function of the call's shape and columns: cached by that key. */
const statements = new Map<string, { name: string | undefined; text: string }>();
// The text of the error raised when a trigger or rule left the document row out.
const NO_ROW = 'tenantry_seq: no document row was inserted for number';
const MAX_CACHED = 1000;

/** The text the series' format puts before and after the number (`INV-2026-` and `` for `{prefix}{yyyy}-{n}`). */
function formatAround(series: Series, req: ResolvedRequest): { head: string; width: number; tail: string } {
  const parts = series.formatParts;
  const at = parts.findIndex((p) => p?.kind === 'n');
  if (at < 0) throw invalidInput('series (define it with defineSeries)', undefined, ['series']);
  const values = {
    prefix: series.prefix,
    series: series.key,
    tenant: req.key.tenant,
    period: req.key.period,
    issueDate: req.issueDate,
    number: 0,
  };
  const n = parts[at] as { kind: 'n'; width: number };
  return {
    head: formatNumber(parts.slice(0, at), values),
    width: Math.min(20, Math.max(0, Number(n.width) || 0)),
    tail: formatNumber(parts.slice(at + 1), values),
  };
}

function statementFor(
  spec: CheckedInsert,
  dated: boolean,
  chronology: boolean,
  timed: boolean,
): { name: string | undefined; text: string } {
  // Identifiers hold no spaces, so a space-joined key is unambiguous.
  const cacheKey = `${+dated}${+chronology}${+timed} ${spec.table} ${spec.numberColumn} ${spec.formattedColumn ?? '-'} ${
    spec.tenantColumn ?? '-'
  } ${spec.columns.join(',')} ${spec.returning.join(',')}`;
  const cached = statements.get(cacheKey);
  if (cached !== undefined) return cached;
  let p = 4 + (dated ? 1 : 0) + (timed ? 1 : 0);
  const targets: string[] = [];
  const exprs: string[] = [];
  if (spec.tenantColumn !== undefined) {
    targets.push(quoteIdent(spec.tenantColumn));
    exprs.push('$1');
  }
  for (const c of spec.columns) {
    targets.push(quoteIdent(c));
    exprs.push(`$${++p}`);
  }
  targets.push(quoteIdent(spec.numberColumn));
  exprs.push('n.last_value');
  if (spec.formattedColumn !== undefined) {
    targets.push(quoteIdent(spec.formattedColumn));
    // lpad cuts a longer string: pad only up to the number's own length (String#padStart's behaviour).
    exprs.push(
      `$${p + 1}::text || lpad(n.last_value::text, greatest($${p + 2}::int, length(n.last_value::text)), '0') || $${p + 3}::text`,
    );
    p += 3;
  }
  // The number comes from the counter (`n`), not from the row (a trigger may change the row). A counter
  // row updated with no document inserted (a BEFORE trigger returning NULL, a DO INSTEAD rule) fails the
  // cast below, so the statement fails as a whole and the counter keeps its number. (The text is not a
  // constant, so PostgreSQL cannot fold the cast at planning time.)
  const text = `WITH n AS (${counterUpdateSql(dated, chronology, timed)}),
d AS (INSERT INTO ${quoteTable(spec.table)} (${targets.join(', ')})
SELECT ${exprs.join(', ')} FROM n
RETURNING ${['1 AS tenantry_seq_one', ...spec.returning.map(quoteIdent)].join(', ')})
SELECT n.last_value::text AS tenantry_seq_number,
  CASE WHEN (SELECT count(*) FROM d) = 1 THEN 1 ELSE ('${NO_ROW} ' || n.last_value)::int END AS tenantry_seq_inserted${spec.returning
    .map((c) => `, d.${quoteIdent(c)}`)
    .join('')}
FROM n LEFT JOIN d ON true`;
  // The name is a digest of the text: two copies of this module (its ESM and CommonJS builds in one
  // process) name the same text alike, and never one name two texts (PostgreSQL keeps 63 bytes). Past
  // the cache bound a shape goes unnamed: a name per call would pile prepared statements up on every
  // connection.
  const full = statements.size >= MAX_CACHED;
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 32);
  const statement = { name: full ? undefined : `tenantry_seq_ins_${digest}`, text };
  if (!full) statements.set(cacheKey, statement);
  return statement;
}

/**
 * Allocate the next number and insert the document in one statement:
 * `WITH n AS (UPDATE counter … RETURNING last_value), d AS (INSERT INTO table (…) SELECT …, n.last_value FROM n) SELECT …`.
 * One statement is one transaction: the number is consumed if and only if the row is inserted.
 * @internal
 */
export async function insertWithNumber<R>(
  db: PgQueryable,
  series: Series,
  req: ResolvedRequest,
  insert: unknown,
  settings: { timeout: string | null; waitMs: number; namedStatements: boolean; ownPool: boolean },
): Promise<InsertedWithNumber<R>> {
  const spec = wellFormed(insert) ?? parsedWithZod(insert);
  const { key } = req;
  const dated = req.issueDate !== undefined;
  const chronology = dated && series.chronology;
  const timed = settings.timeout !== null;
  const statement = statementFor(spec, dated, chronology, timed);

  const values: unknown[] = [key.tenant, key.series, key.period, key.start];
  if (dated) values.push(req.issueDate);
  if (timed) values.push(settings.timeout);
  values.push(...spec.values);
  if (spec.formattedColumn !== undefined) {
    const around = formatAround(series, req);
    values.push(around.head, around.width, around.tail);
  }

  if (!settings.ownPool) return numberedInsert<R>(db, series, req, spec, statement, values, settings);
  // The sequencer's pool: the connection is taken first, so a failure to get one (nothing sent: retry)
  // is told apart from a connection lost while the statement ran (it may have committed).
  let client: Awaited<ReturnType<PgPoolLike['connect']>>;
  try {
    client = await (db as PgPoolLike).connect();
  } catch (error) {
    throw new SequencerError(
      'SEQUENCER_STORE_UNAVAILABLE',
      'No PostgreSQL connection could be had; retry later',
      {
        cause: error,
        details: { tenant: req.key.tenant, series: req.key.series, period: req.key.period },
      },
    );
  }
  let broken: Error | undefined;
  // A connection that dies while checked out also emits 'error' on the client (pg's pool listens only
  // to idle ones): listen while we hold it, so the host does not crash, and destroy it on release.
  const events = client as unknown as {
    on?(event: 'error', listener: (error: Error) => void): unknown;
    removeListener?(event: 'error', listener: (error: Error) => void): unknown;
  };
  const onError = (error: Error): void => {
    broken = error;
  };
  events.on?.('error', onError);
  try {
    return await numberedInsert<R>(client, series, req, spec, statement, values, settings);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'SEQUENCER_COMMIT_UNKNOWN' || code === 'SEQUENCER_STORE_UNAVAILABLE')
      broken ??= error as Error;
    throw error;
  } finally {
    // A broken connection keeps the listener: it is destroyed, never reused, and the server's or the
    // pooler's last message (PgBouncer's FATAL `server conn crashed?`) may still arrive after release.
    if (broken === undefined) events.removeListener?.('error', onError);
    client.release(broken);
  }
}

async function numberedInsert<R>(
  db: PgQueryable,
  series: Series,
  req: ResolvedRequest,
  spec: CheckedInsert,
  statement: { name: string | undefined; text: string },
  values: unknown[],
  settings: { timeout: string | null; waitMs: number; namedStatements: boolean },
): Promise<InsertedWithNumber<R>> {
  const { key } = req;
  const chronology = req.issueDate !== undefined && series.chronology;
  const run = () =>
    statement.name !== undefined &&
    settings.namedStatements &&
    (db as { clientKind?: unknown }).clientKind === undefined
      ? (db as unknown as PgNamedQueryable).query<Record<string, unknown>>({
          name: statement.name,
          text: statement.text,
          values,
        })
      : db.query<Record<string, unknown>>(statement.text, values);

  // No counter row matched: the series and period have none yet (create it, with no number issued, and
  // run the statement again; several callers may race to create it), or the row refused the call
  // (chronology, exhaustion): read it and say which.
  let rows = await guarded(run, key, settings.waitMs, true);
  for (let attempt = 0; rows.length === 0 && attempt < 3; attempt++) {
    const [counter] = await guarded(
      () =>
        db.query<{ last_value: string | null; last_issue_date: string | null }>(READ_COUNTER_SQL, [
          key.tenant,
          key.series,
          key.period,
        ]),
      key,
      settings.waitMs,
    );
    if (counter === undefined) {
      await guarded(
        () => db.query(CREATE_COUNTER_SQL, [key.tenant, key.series, key.period, settings.timeout]),
        key,
        settings.waitMs,
      );
    } else {
      const last = counter.last_value == null ? key.start - 1 : Number(counter.last_value);
      checkRange(key, last + 1);
      if (
        chronology &&
        counter.last_issue_date !== null &&
        (req.issueDate as string) < counter.last_issue_date
      ) {
        throw new SequencerError(
          'SEQUENCER_CHRONOLOGY_VIOLATION',
          `Issue date ${req.issueDate} is earlier than the last committed one in series ${key.series}`,
          { details: { tenant: key.tenant, series: key.series, period: key.period } },
        );
      }
    }
    rows = await guarded(run, key, settings.waitMs, true);
  }
  if (rows.length === 0) {
    throw new SequencerError(
      'SEQUENCER_STORE_FAILED',
      'The counter row matched no update; nothing was written',
      {
        details: { tenant: key.tenant, series: key.series, period: key.period },
      },
    );
  }
  const row: Record<string, unknown> = {};
  const first = rows[0] as Record<string, unknown>;
  for (const c of spec.returning) row[c] = first[c];
  const [allocated] = buildAllocations(series, { ...req, count: 1 }, Number(first.tenantry_seq_number));
  return Object.freeze({ ...(allocated as AllocatedNumber), row: row as R });
}

// Of the connection failures (errors.ts), those raised before anything reached the server (retrying is
// safe); the others broke the connection with the statement possibly sent: it may have committed.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', '57P03', '53300']);
const CONNECTION_LOST = new Set([...UNAVAILABLE].filter((code) => !NOT_SENT.has(code)));
// (pg's `query_timeout` gives up waiting for a statement the server may still commit.)
const LOST_MESSAGE = /Connection terminated|Client has encountered a connection error|Query read timeout/i;
// The counter table itself, named in PostgreSQL's message (not a table whose name merely starts so).
const COUNTER_TABLE = /"tenantry_sequencer_counters"|\btenantry_sequencer_counters(?![A-Za-z0-9_])/;
// SQLSTATEs of the sequencer's own conditions; any other answer to the statement is the document's.
const SEQUENCER_STATES = new Set(['55P03', '40001', '40P01', '42P05', '26000', '57014']);
// A read-only session or standby (25006), a caller's transaction already aborted (25P02): class 25 is
// the transaction's state, not the document's. A named statement whose cached plan went stale after an
// ALTER (0A000) succeeds on the next call.
const NOT_THE_DOCUMENT = (code: string, message: string): boolean =>
  code.startsWith('25') || (code === '0A000' && /cached plan must not change result type/.test(message));

/**
 * Run a statement and map its failure: the sequencer's own conditions (lock timeout, serialization
 * failure, the counter table missing or refused) to their codes; a connection lost while the one-statement
 * insert may have been sent to `SEQUENCER_COMMIT_UNKNOWN`; a value the driver could not serialise to
 * `VALIDATION_FAILED`; any other server answer to the document's INSERT (a constraint, a trigger, a rule,
 * a missing column) to `SEQUENCER_INSERT_FAILED` with its SQLSTATE, constraint and table.
 */
async function guarded<T>(
  statement: () => Promise<{ rows: T[] }>,
  key: ResolvedRequest['key'],
  waitMs: number,
  insertsDocument = false,
): Promise<T[]> {
  try {
    return (await statement()).rows;
  } catch (error) {
    if (isTenantryError(error)) throw error;
    const e = error as {
      code?: unknown;
      message?: unknown;
      constraint?: unknown;
      table?: unknown;
      column?: unknown;
    } | null;
    const code = typeof e?.code === 'string' ? e.code : undefined;
    const message = String(e?.message ?? '');
    const base = { tenant: key.tenant, series: key.series, period: key.period };
    if (
      insertsDocument &&
      code === undefined &&
      (error instanceof TypeError || error instanceof RangeError)
    ) {
      // pg serialises the values before sending anything: a circular value, a BigInt inside a JSON value.
      throw invalidInput('numbered insert values', error, ['values']);
    }
    if (
      insertsDocument &&
      ((code !== undefined && CONNECTION_LOST.has(code)) ||
        (code === undefined && LOST_MESSAGE.test(message)))
    ) {
      throw new SequencerError(
        'SEQUENCER_COMMIT_UNKNOWN',
        'The connection broke while the numbered insert was running; it may have committed: look the document up before inserting it again',
        { cause: error, details: code === undefined ? base : { ...base, sqlstate: code } },
      );
    }
    const documentError =
      insertsDocument &&
      code !== undefined &&
      /^[0-9A-Z]{5}$/.test(code) &&
      !UNAVAILABLE.has(code) &&
      !SEQUENCER_STATES.has(code) &&
      !NOT_THE_DOCUMENT(code, message) &&
      !COUNTER_TABLE.test(message);
    if (!documentError) throw mapPgError(error, key, waitMs);
    const details: Record<string, string> = { ...base, sqlstate: code as string };
    if (message.includes(NO_ROW)) details.reason = 'NO_ROW_INSERTED';
    for (const f of ['constraint', 'table', 'column'] as const) {
      if (typeof e?.[f] === 'string') details[f] = e[f] as string;
    }
    throw new SequencerError(
      'SEQUENCER_INSERT_FAILED',
      'The document INSERT failed; no number was consumed (see details.sqlstate and the cause)',
      { cause: error, details },
    );
  }
}
