import { runAsTenant } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import {
  FormatTemplateSchema,
  defineSeries,
  formatNumber,
  parseFormat,
  periodKey,
  toCalendarDate,
} from '../src/index.js';
import { callOptions, resolveRequest } from '../src/series.js';

// Errors and defensive input handling of format.ts, period.ts and series.ts, pinned exactly (issue 12,
// mutation testing): what each refusal says, and that a hostile argument is a typed error.

const inAcme = <R>(fn: () => R): R => runAsTenant({ tenantId: 'acme', actor: { id: 'u' } }, fn);
const errorOf = (fn: () => unknown): Record<string, unknown> => {
  try {
    fn();
  } catch (e) {
    const err = e as { code?: string; message?: string; details?: unknown; cause?: { message?: string } };
    return { code: err.code, message: err.message, details: err.details, cause: err.cause?.message };
  }
  return { code: 'ok' };
};

describe('format.ts errors', () => {
  it('a malformed template says why, with the template as what', () => {
    expect(errorOf(() => parseFormat('{n}{n}'))).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'Invalid format template: must contain exactly one {n} or {n:0W} token',
      details: {
        what: 'format template',
        issues: [{ path: [], message: 'must contain exactly one {n} or {n:0W} token' }],
      },
    });
    expect(parseFormat('{n}')).toEqual([{ kind: 'n', width: 0 }]);
  });

  it('FormatTemplateSchema carries parseFormat’s reason as its issue', () => {
    expect(FormatTemplateSchema.safeParse('{n}').success).toBe(true);
    const r = FormatTemplateSchema.safeParse('{n}{n}');
    expect(r.success).toBe(false);
    expect(r.error?.issues).toMatchObject([
      { code: 'custom', message: 'Invalid format template: must contain exactly one {n} or {n:0W} token' },
    ]);
  });

  it.each([
    ['parts not an array', 'x', {}, 'bad arguments'],
    ['values null', [], null, 'bad arguments'],
    ['values a string', [], 'v', 'bad arguments'],
    ['negative number', [], { number: -1 }, 'bad number'],
    ['null part', [null], { number: 1 }, 'bad part'],
    ['unknown part', [{ kind: 'x' }], { number: 1 }, 'bad part'],
    ['literal without text', [{ kind: 'literal' }], { number: 1 }, 'bad literal'],
    ['prefix not a string', [{ kind: 'prefix' }], { number: 1, prefix: 5 }, 'bad value'],
  ])('formatNumber refuses %s with one stable error (cause: %s)', (_, parts, values, cause) => {
    expect(errorOf(() => formatNumber(parts as never, values as never))).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'Invalid format parts or values',
      details: {
        what: 'formatNumber',
        issues: [{ path: [], message: 'expected parseFormat() output and format values' }],
      },
      cause,
    });
  });
});

describe('period.ts errors', () => {
  const v = (what: string, message: string) => ({
    code: 'VALIDATION_FAILED',
    message: `Invalid ${what}`,
    details: { what, issues: [{ path: [], message }] },
  });
  it('names what was wrong and why', () => {
    expect(errorOf(() => toCalendarDate('2026-1-1', 'UTC'))).toMatchObject(
      v('issue date', 'expected YYYY-MM-DD or a valid Date'),
    );
    expect(errorOf(() => toCalendarDate(new Date(Number.NaN), 'UTC'))).toMatchObject(
      v('issue date', 'expected YYYY-MM-DD or a valid Date'),
    );
    expect(errorOf(() => toCalendarDate(new Date(), 'Mars/Olympus'))).toMatchObject(
      v('time zone', 'expected an IANA time zone'),
    );
    expect(errorOf(() => periodKey('weekly' as never, '2026-01-01'))).toMatchObject(
      v('period rule', "expected 'none', 'yearly' or 'monthly'"),
    );
    expect(errorOf(() => periodKey('yearly', '2026/01/01'))).toMatchObject(
      v('issue date', 'expected YYYY-MM-DD'),
    );
    expect(errorOf(() => periodKey('yearly', undefined))).toMatchObject({
      code: 'SEQUENCER_ISSUE_DATE_REQUIRED',
      message: 'A periodic series needs the issue date',
    });
  });
});

describe('series.ts: defensive inputs', () => {
  const s = defineSeries({ key: 'inv' });

  it('options may be omitted or null; a non-object or a throwing getter is VALIDATION_FAILED', () => {
    expect(inAcme(() => resolveRequest(s, undefined as never)).key.tenant).toBe('acme');
    expect(inAcme(() => resolveRequest(s, null as never)).key.tenant).toBe('acme');
    const hostile = Object.defineProperty({}, 'tenantId', {
      get() {
        throw new Error('boom');
      },
    });
    for (const options of ['x', 5, hostile]) {
      expect(inAcme(() => errorOf(() => resolveRequest(s, options as never)))).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { what: 'call options', issues: [{ path: ['options'], message: 'invalid input' }] },
      });
    }
    expect(callOptions(undefined, 3)).toEqual({ count: 3 });
    expect(callOptions(null)).toEqual({ count: undefined });
    expect(callOptions({ tenantId: 't', issueDate: '2026-01-01' }, 2)).toEqual({
      tenantId: 't',
      issueDate: '2026-01-01',
      count: 2,
    });
    for (const options of ['x', hostile]) {
      expect(errorOf(() => callOptions(options))).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { what: 'call options', issues: [{ path: ['options'], message: 'invalid input' }] },
      });
    }
  });

  it('a series must come from defineSeries or have its shape', () => {
    for (const bad of [
      {},
      null,
      'inv',
      { ...s, start: 1.5 },
      { ...s, formatParts: 'x' },
      { ...s, timeZone: 1 },
      { ...s, prefix: 1 },
      { ...s, key: 1 },
      { ...s, period: 1 },
    ]) {
      expect(inAcme(() => errorOf(() => resolveRequest(bad as never, {})))).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { what: 'series (define it with defineSeries)', issues: [{ path: ['series'] }] },
      });
    }
    // A copy with the same shape (another copy of the package) is accepted.
    expect(inAcme(() => resolveRequest({ ...s }, {})).key).toEqual({
      tenant: 'acme',
      series: 'inv',
      period: '',
      start: 1,
    });
    const throwing = Object.defineProperty({}, 'key', {
      get() {
        throw new Error('boom');
      },
    });
    expect(inAcme(() => errorOf(() => resolveRequest(throwing as never, {}))).code).toBe('VALIDATION_FAILED');
  });

  it('a missing issue date names the tenant and series; bad allocation options name themselves', () => {
    const yearly = defineSeries({ key: 'inv', period: 'yearly' });
    expect(inAcme(() => errorOf(() => resolveRequest(yearly, {})))).toMatchObject({
      code: 'SEQUENCER_ISSUE_DATE_REQUIRED',
      message: "Series inv needs the document's issue date (periodic, chronological or dated format)",
      details: { tenant: 'acme', series: 'inv' },
    });
    expect(inAcme(() => errorOf(() => resolveRequest(s, { count: 0 })))).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { what: 'allocation options' },
    });
    expect(errorOf(() => defineSeries({ key: '' }))).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { what: 'series definition' },
    });
  });
});
