import { type PgQueryable, resolveTenantId, TenantIdSchema } from '@tenantry/core';
import { quoteIdent } from '@tenantry/core/postgres';
import { z } from 'zod';
import type { GapReport } from '../../inspection.js';
import { SERIES_WHAT, SeriesKeySchema } from '../../series.js';
import { mapPgError } from './errors.js';
import { parseSequencerInput } from '../../input.js';

const Ident = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/, 'must be a plain SQL identifier');
const quote = (id: string): string => id.split('.').map(quoteIdent).join('.');

/** Options of {@link scanPostgresDocuments}. */
export const PostgresScanOptionsSchema = z.object({
  /** The document table, optionally schema-qualified (`public.invoices`). */
  table: Ident,
  /** The tenant whose documents are scanned; checked by core's `resolveTenantId`. @default the context's tenant */
  tenantId: TenantIdSchema.optional(),
  series: SeriesKeySchema,
  /** The period key (`''`, `2026`, `2026-03`); omit when the table has no period column. */
  period: z.string().max(16).optional(),
  /** First expected number. @default 1 */
  start: z.number().int().min(0).default(1),
  /** Column names. @default { tenant: 'tenant', series: 'series', period: 'period', number: 'number' } */
  columns: z
    .object({
      tenant: Ident.default('tenant'),
      series: Ident.default('series'),
      period: Ident.default('period'),
      number: Ident.default('number'),
    })
    .default({ tenant: 'tenant', series: 'series', period: 'period', number: 'number' }),
  /** At most this many gaps and duplicates are listed. @default 1000 */
  limit: z.number().int().min(1).max(100_000).default(1000),
});

/**
 * Scan a document table for gaps and duplicates of one series and period, in SQL (the numbers never
 * travel to the client), for auditors and tests. Scans the current tenant's documents only (T1).
 * @throws ValidationError `VALIDATION_FAILED` on a malformed identifier
 * @throws TenantryError `TENANT_CONTEXT_MISSING` / `TENANT_CONTEXT_CONFLICT` (core's `resolveTenantId`)
 * @throws SequencerError `SEQUENCER_STORE_FAILED` (e.g. no such table), `SEQUENCER_STORE_UNAVAILABLE`
 * @example const report = await scanPostgresDocuments(pool, { table: 'invoices', series: 'invoice', period: '2026' });
 */
export async function scanPostgresDocuments(
  db: PgQueryable,
  input: z.input<typeof PostgresScanOptionsSchema>,
): Promise<GapReport> {
  const o = parseSequencerInput(PostgresScanOptionsSchema, input, 'document scan options');
  const tenant = resolveTenantId(o.tenantId, SERIES_WHAT);
  try {
    return await scan(db, o, tenant);
  } catch (e) {
    throw mapPgError(e, undefined, 0);
  }
}

async function scan(
  db: PgQueryable,
  o: z.output<typeof PostgresScanOptionsSchema>,
  tenant: string,
): Promise<GapReport> {
  const c = o.columns;
  const where = `${quote(c.tenant)} = $1 AND ${quote(c.series)} = $2${o.period === undefined ? '' : ` AND ${quote(c.period)} = $3`}`;
  const params: unknown[] = o.period === undefined ? [tenant, o.series] : [tenant, o.series, o.period];
  const n = quote(c.number);
  const t = quote(o.table);
  const stats = await db.query<{ count: string; distinct: string; min: string | null; max: string | null }>(
    `SELECT count(*) AS count, count(DISTINCT ${n}) AS distinct, min(${n}) AS min, max(${n}) AS max FROM ${t} WHERE ${where}`,
    params,
  );
  const dups = await db.query<{ number: string; count: string }>(
    `SELECT ${n} AS number, count(*) AS count FROM ${t} WHERE ${where} GROUP BY ${n} HAVING count(*) > 1 ORDER BY ${n} LIMIT ${o.limit}`,
    params,
  );
  const gaps = await db.query<{ from: string; to: string }>(
    `SELECT prev + 1 AS from, num - 1 AS to FROM (
       SELECT num, lag(num, 1, ${o.start - 1}::bigint) OVER (ORDER BY num) AS prev
         FROM (SELECT DISTINCT ${n} AS num FROM ${t} WHERE ${where}) d) s
      WHERE num > prev + 1 ORDER BY num LIMIT ${o.limit}`,
    params,
  );
  const s = stats.rows[0];
  return {
    count: Number(s?.count ?? 0),
    distinct: Number(s?.distinct ?? 0),
    first: s?.min == null ? null : Number(s.min),
    last: s?.max == null ? null : Number(s.max),
    gaps: gaps.rows.map((g) => ({ from: Number(g.from), to: Number(g.to) })),
    duplicates: dups.rows.map((d) => ({ number: Number(d.number), count: Number(d.count) })),
    belowStart: Number(s?.min ?? o.start) < o.start,
  };
}
