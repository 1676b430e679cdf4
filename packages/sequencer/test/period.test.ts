import { describe, expect, it } from 'vitest';
import { periodKey, toCalendarDate } from '../src/index.js';
import { MAX_CACHED_TIME_ZONES, cachedTimeZoneCount, isValidTimeZone } from '../src/period.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

describe('period keys', () => {
  it('none → empty key whatever the date; yearly → YYYY; monthly → YYYY-MM', () => {
    expect(periodKey('none', undefined)).toBe('');
    expect(periodKey('none', '2026-03-14')).toBe('');
    expect(periodKey('yearly', '2026-03-14')).toBe('2026');
    expect(periodKey('monthly', '2026-03-14')).toBe('2026-03');
    expect(periodKey('monthly', '1999-12-31')).toBe('1999-12');
  });

  it('a periodic rule without a date is SEQUENCER_ISSUE_DATE_REQUIRED; a malformed date or rule VALIDATION_FAILED', () => {
    expect(codeOf(() => periodKey('yearly', undefined))).toBe('SEQUENCER_ISSUE_DATE_REQUIRED');
    expect(codeOf(() => periodKey('monthly', undefined))).toBe('SEQUENCER_ISSUE_DATE_REQUIRED');
    for (const bad of ['2026-3-14', '2026/03/14', ' 2026-03-14', '2026-03-14T00:00:00Z', '']) {
      expect(codeOf(() => periodKey('yearly', bad))).toBe('VALIDATION_FAILED');
      expect(codeOf(() => periodKey('monthly', bad))).toBe('VALIDATION_FAILED');
    }
    // Dates of the right shape that do not exist; their neighbours do.
    for (const bad of ['2026-02-30', '2026-02-29', '2026-04-31', '2100-02-29']) {
      expect([bad, codeOf(() => toCalendarDate(bad, 'UTC'))]).toEqual([bad, 'VALIDATION_FAILED']);
      expect([bad, codeOf(() => periodKey('monthly', bad))]).toEqual([bad, 'VALIDATION_FAILED']);
    }
    for (const good of ['2028-02-29', '2000-02-29', '2026-04-30', '2026-12-31']) {
      expect(toCalendarDate(good, 'UTC')).toBe(good);
    }
    expect(codeOf(() => periodKey('yearly', 20260314 as never))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => periodKey('weekly' as never, '2026-03-14'))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => periodKey('weekly' as never, undefined))).toBe('VALIDATION_FAILED');
  });
});

describe('calendar dates', () => {
  it('passes a valid YYYY-MM-DD string through and refuses malformed ones', () => {
    expect(toCalendarDate('2026-02-28', 'UTC')).toBe('2026-02-28');
    // Strings are taken as calendar dates: the time zone is not consulted (even an unknown one).
    expect(toCalendarDate('2026-02-28', 'Mars/Olympus')).toBe('2026-02-28');
    for (const bad of ['2026-02-32', '2026-13-01', '2026-00-10', '2026-1-01', 'x']) {
      expect(codeOf(() => toCalendarDate(bad, 'UTC'))).toBe('VALIDATION_FAILED');
    }
  });

  it('reads a Date in the given zone, with two-digit month and day', () => {
    const d = new Date('2026-03-05T23:30:00Z');
    expect(toCalendarDate(d, 'UTC')).toBe('2026-03-05');
    expect(toCalendarDate(d, 'Asia/Tokyo')).toBe('2026-03-06');
    expect(toCalendarDate(d, 'America/Los_Angeles')).toBe('2026-03-05');
  });

  it('refuses an invalid Date, a non-Date and an unknown, over-long or non-string time zone', () => {
    expect(codeOf(() => toCalendarDate(new Date('nope'), 'UTC'))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => toCalendarDate(12 as never, 'UTC'))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => toCalendarDate(new Date(), 'Mars/Olympus'))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => toCalendarDate(new Date(), `Europe/${'x'.repeat(60)}`))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => toCalendarDate(new Date(), 7 as never))).toBe('VALIDATION_FAILED');
    expect(isValidTimeZone('Europe/Paris')).toBe(true);
    expect(isValidTimeZone('Europe/Nowhere')).toBe(false);
  });

  it('writes years below 1000 with four digits and refuses years outside 0001-9999', () => {
    expect(toCalendarDate(new Date('0999-01-02T12:00:00Z'), 'UTC')).toBe('0999-01-02');
    expect(toCalendarDate(new Date('0001-01-01T12:00:00Z'), 'UTC')).toBe('0001-01-01');
    expect(toCalendarDate(new Date('9999-12-31T12:00:00Z'), 'UTC')).toBe('9999-12-31');
    const bce = new Date(Date.UTC(0, 5, 1));
    bce.setUTCFullYear(-5);
    expect(codeOf(() => toCalendarDate(bce, 'UTC'))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => toCalendarDate(new Date('+010000-01-01T00:00:00Z'), 'UTC'))).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('keeps at most MAX_CACHED_TIME_ZONES formatters, however many spellings of a zone are used', () => {
    // Zone names are case-insensitive, so one zone has thousands of spellings.
    const spellings = (name: string, n: number): string[] => {
      const out: string[] = [];
      for (let mask = 0; out.length < n; mask++) {
        out.push([...name].map((c, i) => ((mask >> i) & 1 ? c.toUpperCase() : c.toLowerCase())).join(''));
      }
      return out;
    };
    const d = new Date('2026-06-01T12:00:00Z');
    let peak = 0;
    for (const zone of spellings('america/argentina/buenos_aires', MAX_CACHED_TIME_ZONES * 2 + 10)) {
      expect(toCalendarDate(d, zone)).toBe('2026-06-01');
      peak = Math.max(peak, cachedTimeZoneCount());
    }
    expect(peak).toBe(MAX_CACHED_TIME_ZONES);
    expect(cachedTimeZoneCount()).toBeLessThanOrEqual(MAX_CACHED_TIME_ZONES);
  });
});
