import { TenantryError } from '@tenantry/core';
import { z } from 'zod';
import { SequencerError } from './errors.js';

const CALENDAR_DATE_SHAPE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
// A calendar date that exists: the shape, and a day that the month has (no 2026-02-30).
function isCalendarDate(s: string): boolean {
  if (!CALENDAR_DATE_SHAPE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
const invalid = (what: string, message: string): TenantryError =>
  new TenantryError('VALIDATION_FAILED', `Invalid ${what}`, {
    details: { what, issues: [{ path: [], message }] },
  });

/**
 * How a series restarts: `none` (one counter forever), `yearly` (per calendar year of the issue date),
 * `monthly` (per calendar month of the issue date). The period always comes from the document's issue
 * date that the caller gives, never from the server clock.
 */
export const PeriodRuleSchema = z.enum(['none', 'yearly', 'monthly']);
/** One of {@link PeriodRuleSchema}'s values. */
export type PeriodRule = z.infer<typeof PeriodRuleSchema>;

/** An issue date: a `Date` (read in the series' time zone) or a calendar date `YYYY-MM-DD`. */
export const IssueDateSchema = z.union([
  z.date().refine((d) => !Number.isNaN(d.getTime()), 'invalid date'),
  z.iso.date(),
]);
/** Input type of {@link IssueDateSchema}. */
export type IssueDateInput = z.input<typeof IssueDateSchema>;

/**
 * Date formatters by time zone as written. There are about 600 IANA zones, but the same zone can be
 * spelled in many ways (the names are case-insensitive), so the map is bounded: past
 * {@link MAX_CACHED_TIME_ZONES} spellings it starts over (a formatter takes some tens of microseconds to rebuild).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Most time-zone spellings whose formatter is kept. @internal */
export const MAX_CACHED_TIME_ZONES = 1024;
/** How many formatters are held now (tests). @internal */
export function cachedTimeZoneCount(): number {
  return formatters.size;
}

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The calendar date (`YYYY-MM-DD`) of an issue date in `timeZone`. Strings pass through unchanged.
 * @throws TenantryError `VALIDATION_FAILED` for an invalid date or an unknown time zone
 * @example toCalendarDate(new Date('2026-01-01T02:00:00Z'), 'America/Caracas') // '2025-12-31'
 */
export function toCalendarDate(date: Date | string, timeZone: string): string {
  if (typeof date === 'string') {
    if (!isCalendarDate(date)) throw invalid('issue date', 'expected YYYY-MM-DD or a valid Date');
    return date;
  }
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw invalid('issue date', 'expected YYYY-MM-DD or a valid Date');
  }
  if (typeof timeZone !== 'string' || timeZone.length > 64 || !isValidTimeZone(timeZone)) {
    throw invalid('time zone', 'expected an IANA time zone');
  }
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    if (formatters.size >= MAX_CACHED_TIME_ZONES) formatters.clear();
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(date);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  // Intl writes years below 1000 with fewer digits and years before 1 CE as era years; neither is
  // a YYYY-MM-DD date, so both are refused rather than turned into a key that sorts wrongly.
  const year = Number(get('year'));
  if (get('era') !== '' || !Number.isInteger(year) || year < 1 || year > 9999 || date.getUTCFullYear() < 1) {
    throw invalid('issue date', 'expected a date in the years 0001-9999');
  }
  return `${String(year).padStart(4, '0')}-${get('month')}-${get('day')}`;
}

/**
 * The period key a calendar date falls in: `''` for `none`, `YYYY` for `yearly`, `YYYY-MM` for `monthly`.
 * @throws SequencerError `SEQUENCER_ISSUE_DATE_REQUIRED` for a periodic rule without a date; TenantryError `VALIDATION_FAILED`
 * @example periodKey('yearly', '2026-03-14') // '2026'
 */
export function periodKey(rule: PeriodRule, calendarDate: string | undefined): string {
  if (rule === 'none') return '';
  if (rule !== 'yearly' && rule !== 'monthly')
    throw invalid('period rule', "expected 'none', 'yearly' or 'monthly'");
  if (calendarDate === undefined) {
    throw new SequencerError('SEQUENCER_ISSUE_DATE_REQUIRED', 'A periodic series needs the issue date');
  }
  if (typeof calendarDate !== 'string' || !isCalendarDate(calendarDate)) {
    throw invalid('issue date', 'expected YYYY-MM-DD');
  }
  return rule === 'yearly' ? calendarDate.slice(0, 4) : calendarDate.slice(0, 7);
}
