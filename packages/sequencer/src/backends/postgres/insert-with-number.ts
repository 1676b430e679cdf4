import { type PgQueryable, isTenantryError } from '@tenantry/core';
import { z } from 'zod';
import { SequencerError } from '../../errors.js';
import { formatNumber } from '../../format.js';
import { parseSequencerInput } from '../../input.js';
import {
  type AllocatedNumber,
  buildAllocations,
  checkRange,
  MAX_SEQUENCE_NUMBER,
  type ResolvedRequest,
  type Series,
} from '../../series.js';
import { mapPgError, type PgNamedQueryable } from './errors.js';

// Quoted as written ("Invoices" stays upper case), so only names that need no escaping are taken.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const Identifier = z.string().regex(IDENTIFIER, 'must be an SQL identifier: letters, digits, _ (max 63)');

/** What {@link PostgresSequencer.insertWithNumber} inserts, validated with zod. */
export const PostgresNumberedInsertSchema = z
  .object({
    /** The document table, optionally schema-qualified (`invoices`, `billing.invoices`); each part quoted as written. */
    table: z
      .string()
      .regex(
        /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/,
        'must be table or schema.table (letters, digits, _)',
      ),
    /** The column that receives the number (an integer column: `bigint` holds every number). */
    numberColumn: Identifier,
    /** A text column that receives the number rendered with the series' format, if any. */
    formattedColumn: Identifier.optional(),
    /** A text column that receives the tenant id the number was taken for (the counter's tenant), if any. */
    tenantColumn: Identifier.optional(),
    /** The other columns and their values, sent as parameters; PostgreSQL casts each to its column's type. @default {} */
    values: z
      .record(Identifier, z.unknown())
      .refine((v) => Object.keys(v).length <= 1000, 'at most 1000 columns')
      .default({}),
    /** Columns of the inserted row to return in `row` (besides the number). @default [] */
    returning: z.array(Identifier).max(1000).default([]),
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
  });
export type PostgresNumberedInsert = z.input<typeof PostgresNumberedInsertSchema>;

/** The result of {@link PostgresSequencer.insertWithNumber}: the number, and the columns asked for in `returning`. */
export interface InsertedWithNumber<R = Record<string, unknown>> extends AllocatedNumber {
  /** The inserted row's `returning` columns (an empty object when none were asked for). */
  readonly row: R;
}

type NumberedInsert = z.output<typeof PostgresNumberedInsertSchema>;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;
const isIdentifier = (v: unknown): v is string => typeof v === 'string' && IDENTIFIER.test(v);
const KEYS = new Set(['table', 'numberColumn', 'formattedColumn', 'tenantColumn', 'values', 'returning']);

/**
 * The schema's rules checked by hand for the common, valid call (zod's parse was a visible share of the
 * client's CPU per one-round-trip insert); `undefined` sends anything else through zod, which reports it.
 */
function wellFormed(input: unknown): NumberedInsert | undefined {
  try {
    return checkByHand(input);
  } catch {
    return undefined; // a throwing getter or proxy: zod reports it
  }
}
function checkByHand(input: unknown): NumberedInsert | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype)
    return undefined;
  const v = input as Record<string, unknown>;
  for (const k in v) if (!KEYS.has(k)) return undefined;
  const values = v.values ?? {};
  const returning = v.returning ?? [];
  if (
    typeof v.table !== 'string' ||
    !TABLE.test(v.table) ||
    !isIdentifier(v.numberColumn) ||
    (v.formattedColumn !== undefined && !isIdentifier(v.formattedColumn)) ||
    (v.tenantColumn !== undefined && !isIdentifier(v.tenantColumn)) ||
    typeof values !== 'object' ||
    values === null ||
    Object.getPrototypeOf(values) !== Object.prototype ||
    !Array.isArray(returning) ||
    returning.length > 1000
  )
    return undefined;
  const seen = new Set<string>([v.numberColumn]);
  for (const c of [v.formattedColumn, v.tenantColumn]) {
    if (c === undefined) continue;
    if (seen.has(c as string)) return undefined;
    seen.add(c as string);
  }
  const columns = Object.keys(values);
  if (columns.length > 1000) return undefined;
  for (const c of columns) {
    if (!isIdentifier(c) || seen.has(c)) return undefined;
    seen.add(c);
  }
  for (const c of returning) if (!isIdentifier(c)) return undefined;
  // Copies: what is checked is what is sent (a getter read twice could answer differently).
  const copied: Record<string, unknown> = {};
  for (const c of columns) copied[c] = (values as Record<string, unknown>)[c];
  return {
    table: v.table,
    numberColumn: v.numberColumn,
    formattedColumn: v.formattedColumn as string | undefined,
    tenantColumn: v.tenantColumn as string | undefined,
    values: copied,
    returning: [...(returning as string[])],
  };
}

const quoteIdent = (name: string): string => `"${name}"`;
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

/** The statement text is a function of the call's shape and columns: cached by that key. */
const statements = new Map<string, { name: string; text: string }>();
let named = 0;

/** The text the series' format puts before and after the number (`INV-2026-` and `` for `{prefix}{yyyy}-{n}`). */
function formatAround(series: Series, req: ResolvedRequest): { head: string; width: number; tail: string } {
  const parts = series.formatParts;
  const at = parts.findIndex((p) => p.kind === 'n');
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
    width: n.width,
    tail: formatNumber(parts.slice(at + 1), values),
  };
}

/**
 * Allocate the next number and insert the document in one statement:
 * `WITH n AS (UPDATE counter … RETURNING last_value) INSERT INTO table (…) SELECT …, n.last_value FROM n`.
 * One statement is one transaction: the number is consumed if and only if the row is inserted.
 * @internal
 */
export async function insertWithNumber<R>(
  db: PgQueryable,
  series: Series,
  req: ResolvedRequest,
  insert: unknown,
  settings: { timeout: string | null; waitMs: number; namedStatements: boolean },
): Promise<InsertedWithNumber<R>> {
  const spec =
    wellFormed(insert) ?? parseSequencerInput(PostgresNumberedInsertSchema, insert, 'numbered insert');
  const { key } = req;
  const dated = req.issueDate !== undefined;
  const chronology = dated && series.chronology;
  const timed = settings.timeout !== null;
  const columns = Object.keys(spec.values);
  const formatted = spec.formattedColumn !== undefined;
  const tenantColumn = spec.tenantColumn !== undefined;
  // Identifiers hold no spaces, so a space-joined key is unambiguous.
  const cacheKey = `${+dated}${+chronology}${+timed} ${spec.table} ${spec.numberColumn} ${spec.formattedColumn ?? '-'} ${
    spec.tenantColumn ?? '-'
  } ${columns.join(',')} ${spec.returning.join(',')}`;
  let statement = statements.get(cacheKey);
  if (statement === undefined) {
    let p = 4 + (dated ? 1 : 0) + (timed ? 1 : 0);
    const targets: string[] = [];
    const exprs: string[] = [];
    if (tenantColumn) {
      targets.push(quoteIdent(spec.tenantColumn as string));
      exprs.push('$1');
    }
    for (const c of columns) {
      targets.push(quoteIdent(c));
      exprs.push(`$${++p}`);
    }
    targets.push(quoteIdent(spec.numberColumn));
    exprs.push('n.last_value');
    if (formatted) {
      targets.push(quoteIdent(spec.formattedColumn as string));
      // lpad cuts a longer string: pad only up to the number's own length (String#padStart's behaviour).
      exprs.push(
        `$${p + 1}::text || lpad(n.last_value::text, greatest($${p + 2}::int, length(n.last_value::text)), '0') || $${p + 3}::text`,
      );
      p += 3;
    }
    const returning = [
      `${quoteIdent(spec.numberColumn)}::text AS tenantry_number`,
      ...spec.returning.map(quoteIdent),
    ];
    const text = `WITH n AS (${counterUpdateSql(dated, chronology, timed)})
INSERT INTO ${quoteTable(spec.table)} (${targets.join(', ')})
SELECT ${exprs.join(', ')} FROM n
RETURNING ${returning.join(', ')}`;
    // Names stay short and unique per text within the process (PostgreSQL keeps 63 bytes).
    statement = { name: `tenantry_seq_ins_${(++named).toString(36)}`, text };
    if (statements.size < 1000) statements.set(cacheKey, statement);
  }

  const values: unknown[] = [key.tenant, key.series, key.period, key.start];
  if (dated) values.push(req.issueDate);
  if (timed) values.push(settings.timeout);
  for (const c of columns) values.push(spec.values[c]);
  if (formatted) {
    const around = formatAround(series, req);
    values.push(around.head, around.width, around.tail);
  }

  const run = () =>
    settings.namedStatements && (db as { clientKind?: unknown }).clientKind === undefined
      ? (db as unknown as PgNamedQueryable).query<Record<string, unknown>>({
          name: statement.name,
          text: statement.text,
          values,
        })
      : db.query<Record<string, unknown>>(statement.text, values);

  let rows = await guarded(run, key, settings.waitMs);
  if (rows.length === 0) {
    // No counter row matched: the series and period have none yet (create it, no number issued, and
    // run the statement again), or the row refused the call (chronology, exhaustion): say which.
    const created = await guarded(
      () =>
        db.query(
          `INSERT INTO tenantry_sequencer_counters (tenant, series, period, last_value, last_issue_date)
VALUES ($1, $2, $3, NULL, NULL) ON CONFLICT (tenant, series, period) DO NOTHING RETURNING 1`,
          [key.tenant, key.series, key.period],
        ),
      key,
      settings.waitMs,
    );
    if (created.length === 1 || !chronology) rows = await guarded(run, key, settings.waitMs);
    if (rows.length === 0) {
      const [counter] = await guarded(
        () =>
          db.query<{ last_value: string | null }>(
            'SELECT last_value FROM tenantry_sequencer_counters WHERE tenant = $1 AND series = $2 AND period = $3',
            [key.tenant, key.series, key.period],
          ),
        key,
        settings.waitMs,
      );
      const last = counter?.last_value == null ? key.start - 1 : Number(counter.last_value);
      checkRange(key, last + 1);
      const details = { tenant: key.tenant, series: key.series, period: key.period };
      if (chronology) {
        throw new SequencerError(
          'SEQUENCER_CHRONOLOGY_VIOLATION',
          `Issue date ${req.issueDate} is earlier than the last committed one in series ${key.series}`,
          { details },
        );
      }
      throw new SequencerError(
        'SEQUENCER_STORE_FAILED',
        'The counter row matched no update; nothing was written',
        {
          details,
        },
      );
    }
  }
  const { tenantry_number: number, ...row } = rows[0] as { tenantry_number: string } & Record<
    string,
    unknown
  >;
  const [allocated] = buildAllocations(series, { ...req, count: 1 }, Number(number));
  return Object.freeze({ ...(allocated as AllocatedNumber), row: row as R });
}

/**
 * Run a statement and map its failure: the sequencer's own conditions (lock timeout, missing counter
 * table, serialization failure, connection loss) to their codes; a failure of the document's INSERT (a
 * constraint, a missing column) to `SEQUENCER_INSERT_FAILED` with its SQLSTATE, constraint and table.
 */
async function guarded<T>(
  statement: () => Promise<{ rows: T[] }>,
  key: ResolvedRequest['key'],
  waitMs: number,
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
    };
    const code = typeof e?.code === 'string' ? e.code : undefined;
    const documentError =
      code !== undefined &&
      /^(23|22|42)/.test(code) &&
      !(code === '42P01' && String(e.message).includes('tenantry_sequencer_counters'));
    if (!documentError) throw mapPgError(error, key, waitMs);
    const details: Record<string, string> = {
      tenant: key.tenant,
      series: key.series,
      period: key.period,
      sqlstate: code,
    };
    for (const f of ['constraint', 'table', 'column'] as const) {
      if (typeof e[f] === 'string') details[f] = e[f] as string;
    }
    throw new SequencerError(
      'SEQUENCER_INSERT_FAILED',
      'The document INSERT failed; no number was consumed (see details.sqlstate and the cause)',
      { cause: error, details },
    );
  }
}
