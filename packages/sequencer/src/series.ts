import { resolveTenantId, TenantIdSchema } from '@tenantry/core';
import { z } from 'zod';
import { SequencerError } from './errors.js';
import {
  type FormatPart,
  FormatTemplateSchema,
  formatNeedsDate,
  formatNumber,
  parseFormat,
} from './format.js';
import {
  type IssueDateInput,
  IssueDateSchema,
  isValidTimeZone,
  type PeriodRule,
  PeriodRuleSchema,
  periodKey,
  toCalendarDate,
} from './period.js';
import { invalidInput, parseSequencerInput } from './input.js';

/** A series key such as `invoice`, `credit-note` or `invoice.branch-03`: 1–64 of `[A-Za-z0-9._-]`. */
export const SeriesKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 chars of [A-Za-z0-9._-], starting alphanumeric');

/** Largest number a series may reach: numbers are exact JavaScript integers. */
export const MAX_SEQUENCE_NUMBER = Number.MAX_SAFE_INTEGER;

/** Input accepted by {@link defineSeries}. */
export const SeriesDefinitionSchema = z
  .object({
    /** The series key, e.g. `invoice`; use one key per branch or point of sale if numbering is per branch. */
    key: SeriesKeySchema,
    /** When the counter restarts. @default 'none' */
    period: PeriodRuleSchema.default('none'),
    /** The first number of the series and of every new period (e.g. a registered start number). @default 1 */
    start: z.number().int().min(0).max(MAX_SEQUENCE_NUMBER).default(1),
    /** Format template, e.g. `{prefix}{yyyy}-{n:08}`. @default '{n}' */
    format: FormatTemplateSchema.default('{n}'),
    /** Text for `{prefix}`, e.g. a branch code. @default '' */
    prefix: z
      .string()
      .max(64)
      .regex(/^[^{}\p{Cc}]*$/u, 'may not contain braces or control characters')
      .regex(/^(?:[^\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/, 'may not contain lone surrogates')
      .default(''),
    /** Refuse an issue date earlier than the last committed one in the same series and period. @default false */
    chronology: z.boolean().default(false),
    /** IANA time zone in which `Date` issue dates are read as calendar dates. @default 'UTC' */
    timeZone: z.string().refine(isValidTimeZone, 'unknown IANA time zone').default('UTC'),
  })
  .strict();

/** Input type of {@link SeriesDefinitionSchema}. */
export type SeriesDefinitionInput = z.input<typeof SeriesDefinitionSchema>;

/**
 * A validated, frozen series definition; build it with {@link defineSeries}. It belongs to no tenant:
 * define it once at module scope, and every allocation takes the tenant from the tenant context
 * (invariant T1, core's `resolveTenantId`).
 */
export interface Series {
  readonly key: string;
  readonly period: PeriodRule;
  readonly start: number;
  readonly format: string;
  readonly prefix: string;
  readonly chronology: boolean;
  readonly timeZone: string;
  /** @internal parsed template */
  readonly formatParts: readonly FormatPart[];
}

/**
 * Validate a series definition. Needs no tenant context: a series is shared by every tenant, and each
 * tenant has its own counters (S5); the tenant of an allocation comes from the context when it runs.
 * @throws ValidationError `VALIDATION_FAILED` on a malformed definition (unknown template token, bad key …)
 * @example export const invoices = defineSeries({ key: 'invoice', period: 'yearly', format: 'F{yyyy}-{n:06}' });
 */
export function defineSeries(input: SeriesDefinitionInput): Series {
  const d = parseSequencerInput(SeriesDefinitionSchema, input, 'series definition');
  const series = Object.freeze({ ...d, formatParts: Object.freeze(parseFormat(d.format)) });
  DEFINED.add(series);
  return series;
}

/**
 * The tenant option every sequencer call takes. Omit it: the tenant comes from the tenant context.
 * Naming one is allowed, and checked by core's `resolveTenantId`: inside `runAsTenant(A)` only `A`;
 * inside `runAsSystem` any tenant; outside any context nothing (`TENANT_CONTEXT_MISSING`).
 */
export interface TenantOption {
  /** The tenant to act for. @default the tenant of the current context */
  tenantId?: string | undefined;
}

const DEFINED = new WeakSet<object>();

/** Whether `value` came from {@link defineSeries} (in this copy of the package) or has its shape. */
function isSeries(value: unknown): value is Series {
  if (typeof value !== 'object' || value === null) return false;
  if (DEFINED.has(value)) return true;
  try {
    const s = value as Partial<Series>;
    return (
      typeof s.key === 'string' &&
      typeof s.period === 'string' &&
      Number.isSafeInteger(s.start) &&
      Array.isArray(s.formatParts) &&
      typeof s.prefix === 'string' &&
      typeof s.timeZone === 'string'
    );
  } catch {
    return false;
  }
}

/** The `tenantId` option of a call, read defensively (a hostile options object is a validation error). */
function tenantIdOf(options: unknown): string | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object' || options === null)
    throw invalidInput('call options', undefined, ['options']);
  try {
    return (options as TenantOption).tenantId;
  } catch (e) {
    throw invalidInput('call options', e, ['options']);
  }
}

/**
 * Read `tenantId` and `issueDate` of a call's options defensively (a hostile options object is a
 * validation error, never a raw TypeError).
 * @internal
 */
export function callOptions(
  options: unknown,
  count?: number,
): { tenantId?: string | undefined; issueDate?: IssueDateInput | undefined; count?: number | undefined } {
  if (options === undefined || options === null) return { count };
  if (typeof options !== 'object') throw invalidInput('call options', undefined, ['options']);
  try {
    const o = options as TenantOption & { issueDate?: IssueDateInput };
    return { tenantId: o.tenantId, issueDate: o.issueDate, count };
  } catch (e) {
    throw invalidInput('call options', e, ['options']);
  }
}

/** What {@link resolveTenantId} is told is being accessed. @internal */
export const SERIES_WHAT = 'sequence series';

/** Which counter an allocation touches: tenants, series and periods never share one (S5). */
export interface CounterKey {
  readonly tenant: string;
  readonly series: string;
  /** `''` for `none`, `YYYY` or `YYYY-MM`. */
  readonly period: string;
  /** The series' start value, used when the counter does not exist yet. */
  readonly start: number;
}

/** Largest batch one call may take. */
export const MAX_BATCH = 100_000;

/** Options shared by every allocation call. */
export const AllocationOptionsSchema = z.object({
  /** The tenant to act for; checked against the context by core's `resolveTenantId`. @default the context's tenant */
  tenantId: TenantIdSchema.optional(),
  /** The document's issue date; required for periodic series, chronology and date tokens. */
  issueDate: IssueDateSchema.optional(),
  /** How many consecutive numbers to take at once (batch), all or none. @default 1 */
  count: z.number().int().min(1).max(MAX_BATCH).default(1),
});

/** One allocated number. */
export interface AllocatedNumber {
  readonly tenant: string;
  readonly series: string;
  readonly period: string;
  readonly number: number;
  /** The number rendered with the series' format template. */
  readonly formatted: string;
  /** The issue date as `YYYY-MM-DD`, when given. */
  readonly issueDate: string | undefined;
}

/** A resolved allocation request. @internal */
export interface ResolvedRequest {
  key: CounterKey;
  issueDate: string | undefined;
  count: number;
}

/** Resolve the tenant, counter key, calendar date and count of a request (T1 through core's `resolveTenantId`). @internal */
export function resolveRequest(
  series: Series,
  options: {
    tenantId?: string | undefined;
    issueDate?: IssueDateInput | undefined;
    count?: number | undefined;
  },
): ResolvedRequest {
  if (!isSeries(series)) throw invalidInput('series (define it with defineSeries)', undefined, ['series']);
  const tenant = resolveTenantId(tenantIdOf(options), SERIES_WHAT);
  options = options ?? {};
  // Fast path for the common call (no date, count absent or a plain valid integer): skip zod.
  const c = options.count;
  const o =
    options.issueDate === undefined &&
    (c === undefined || (Number.isInteger(c) && (c as number) >= 1 && (c as number) <= MAX_BATCH))
      ? { issueDate: undefined, count: c ?? 1 }
      : parseSequencerInput(
          AllocationOptionsSchema,
          { issueDate: options.issueDate, count: c },
          'allocation options',
        );
  const issueDate = o.issueDate === undefined ? undefined : toCalendarDate(o.issueDate, series.timeZone);
  if (
    issueDate === undefined &&
    (series.period !== 'none' || series.chronology || formatNeedsDate(series.formatParts))
  ) {
    throw new SequencerError(
      'SEQUENCER_ISSUE_DATE_REQUIRED',
      `Series ${series.key} needs the document's issue date (periodic, chronological or dated format)`,
      { details: { tenant, series: series.key } },
    );
  }
  return {
    key: {
      tenant,
      series: series.key,
      period: periodKey(series.period, issueDate),
      start: series.start,
    },
    issueDate,
    count: o.count,
  };
}

/** Build the allocated numbers `first…first+count-1`. @internal */
export function buildAllocations(series: Series, req: ResolvedRequest, first: number): AllocatedNumber[] {
  const out: AllocatedNumber[] = [];
  for (let i = 0; i < req.count; i++) {
    const number = first + i;
    out.push(
      Object.freeze({
        tenant: req.key.tenant,
        series: series.key,
        period: req.key.period,
        number,
        issueDate: req.issueDate,
        formatted: formatNumber(series.formatParts, {
          prefix: series.prefix,
          series: series.key,
          tenant: req.key.tenant,
          period: req.key.period,
          issueDate: req.issueDate,
          number,
        }),
      }),
    );
  }
  return out;
}

/** Throw `SEQUENCER_EXHAUSTED` if `last` is past the safe range. @internal */
export function checkRange(key: CounterKey, last: number): void {
  if (!Number.isSafeInteger(last) || last > MAX_SEQUENCE_NUMBER) {
    throw new SequencerError('SEQUENCER_EXHAUSTED', `Series ${key.series} has no numbers left`, {
      details: { tenant: key.tenant, series: key.series, period: key.period },
    });
  }
}
