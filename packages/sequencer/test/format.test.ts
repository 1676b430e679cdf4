import { runAsTenant } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { MAX_SEQUENCE_NUMBER, defineSeries, formatNumber, parseFormat } from '../src/index.js';
import { formatNeedsDate } from '../src/format.js';
import { MAX_BATCH, buildAllocations, checkRange, resolveRequest } from '../src/series.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};
const inAcme = <R>(fn: () => R): R => runAsTenant({ tenantId: 'acme', actor: { id: 'u' } }, fn);
const values = {
  prefix: 'P-',
  series: 'inv',
  tenant: 'acme',
  period: '2026-03',
  issueDate: '2026-03-14',
  number: 7,
};

describe('format templates: widths', () => {
  it.each([1, 2, 9, 10, 11, 15, 19, 20])('{n:0%i} pads to exactly that many digits', (w) => {
    const template = `{n:${String(w).padStart(2, '0')}}`;
    expect(parseFormat(template)).toEqual([{ kind: 'n', width: w }]);
    expect(formatNumber(parseFormat(template), values)).toBe('7'.padStart(w, '0'));
    // Without the leading zero the width means the same.
    expect(parseFormat(`{n:${w}}`)).toEqual([{ kind: 'n', width: w }]);
  });

  it('a number wider than the width is not truncated; {n} has no padding', () => {
    expect(formatNumber(parseFormat('{n:03}'), { ...values, number: 123456 })).toBe('123456');
    expect(formatNumber(parseFormat('{n}'), { ...values, number: 7 })).toBe('7');
    expect(formatNumber(parseFormat('{n:20}'), { ...values, number: MAX_SEQUENCE_NUMBER })).toBe(
      '00009007199254740991',
    );
  });

  it.each(['{n:21}', '{n:099}', '{n:30}', '{n:99}'])('refuses %s (widths are 1–20)', (t) => {
    expect(codeOf(() => parseFormat(t))).toBe('VALIDATION_FAILED');
  });

  it('refuses malformed templates with the reason', () => {
    expect(() => parseFormat('{n:21}')).toThrow(/at most 20/);
    expect(() => parseFormat('{n}{n}')).toThrow(/exactly one/);
    expect(() => parseFormat('F-{yyyy}')).toThrow(/exactly one/);
    expect(() => parseFormat('{nope}{n}')).toThrow(/unknown token \{nope\}/);
    expect(() => parseFormat('{yyyy:04}{n}')).toThrow(/unknown token \{yyyy:4\}/);
    expect(() => parseFormat('{n}}')).toThrow(/stray/);
    expect(() => parseFormat('{{n}')).toThrow(/stray/);
    expect(() => parseFormat('')).toThrow(/1-200/);
    expect(() => parseFormat(`${'a'.repeat(198)}{n}`)).toThrow(/1-200/);
    expect(parseFormat(`${'a'.repeat(197)}{n}`)).toHaveLength(2);
    expect(codeOf(() => parseFormat(7 as never))).toBe('VALIDATION_FAILED');
  });

  it('parses literals and every named token in order', () => {
    expect(parseFormat('A{prefix}B{series}{tenant}-{yyyy}{yy}{mm}/{period}#{n:05}Z')).toEqual([
      { kind: 'literal', text: 'A' },
      { kind: 'prefix' },
      { kind: 'literal', text: 'B' },
      { kind: 'series' },
      { kind: 'tenant' },
      { kind: 'literal', text: '-' },
      { kind: 'yyyy' },
      { kind: 'yy' },
      { kind: 'mm' },
      { kind: 'literal', text: '/' },
      { kind: 'period' },
      { kind: 'literal', text: '#' },
      { kind: 'n', width: 5 },
      { kind: 'literal', text: 'Z' },
    ]);
    expect(
      formatNumber(parseFormat('A{prefix}B{series}{tenant}-{yyyy}{yy}{mm}/{period}#{n:05}Z'), values),
    ).toBe('AP-Binvacme-20262603/2026-03#00007Z');
  });
});

describe('format templates: dates', () => {
  it('{yyyy}, {yy} and {mm} each make the template need a date; other tokens do not', () => {
    for (const t of ['{yyyy}{n}', '{yy}{n}', '{mm}{n}', 'x{mm}-{n:04}']) {
      expect(formatNeedsDate(parseFormat(t))).toBe(true);
    }
    for (const t of ['{n}', '{prefix}{series}{tenant}{period}{n}']) {
      expect(formatNeedsDate(parseFormat(t))).toBe(false);
    }
  });

  it('a series whose format uses only {yy} or {mm} needs the issue date, even with period none', () => {
    for (const format of ['{yy}-{n}', '{mm}-{n}']) {
      const s = defineSeries({ key: 'inv', format, period: 'none' });
      expect(inAcme(() => codeOf(() => resolveRequest(s, {})))).toBe('SEQUENCER_ISSUE_DATE_REQUIRED');
      expect(inAcme(() => resolveRequest(s, { issueDate: '2026-03-14' })).key.period).toBe('');
    }
  });

  it('an explicit period: none keeps one counter whatever the date', () => {
    const s = defineSeries({ key: 'inv', period: 'none' });
    expect(s.period).toBe('none');
    const a = inAcme(() => resolveRequest(s, { issueDate: '2026-01-01' }));
    const b = inAcme(() => resolveRequest(s, { issueDate: '2027-12-31' }));
    expect(a.key).toEqual(b.key);
    expect(a.key.period).toBe('');
    expect(inAcme(() => resolveRequest(s, {})).key.period).toBe('');
  });

  it('renders without a date as empty date tokens (the sequencer refuses that case before)', () => {
    expect(formatNumber(parseFormat('{yyyy}{yy}{mm}-{n}'), { ...values, issueDate: undefined })).toBe('-7');
  });

  it('refuses parts or values that are not what parseFormat produced', () => {
    const parts = parseFormat('{prefix}{n}');
    expect(codeOf(() => formatNumber(parts, { ...values, number: -1 }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => formatNumber(parts, { ...values, number: 1.5 }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => formatNumber(parts, { ...values, number: 2 ** 53 }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => formatNumber(parts, { ...values, prefix: 3 as never }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => formatNumber([{ kind: 'bogus' } as never], values))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => formatNumber([{ kind: 'literal', text: 1 } as never], values))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => formatNumber('x' as never, values))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => formatNumber(parts, null as never))).toBe('VALIDATION_FAILED');
    expect(formatNumber(parts, { ...values, number: 0 })).toBe('P-0');
  });
});

describe('batches and exhaustion', () => {
  it('a batch takes 1…MAX_BATCH numbers; 0, MAX_BATCH + 1 and fractions are refused', () => {
    const s = defineSeries({ key: 'inv' });
    expect(MAX_BATCH).toBe(100_000);
    expect(inAcme(() => resolveRequest(s, { count: MAX_BATCH })).count).toBe(MAX_BATCH);
    expect(inAcme(() => resolveRequest(s, { count: 1 })).count).toBe(1);
    expect(inAcme(() => resolveRequest(s, {})).count).toBe(1);
    for (const count of [0, -1, MAX_BATCH + 1, 2.5, Number.NaN]) {
      expect(inAcme(() => codeOf(() => resolveRequest(s, { count })))).toBe('VALIDATION_FAILED');
    }
    // Also through the validating path (with a date).
    expect(
      inAcme(() => codeOf(() => resolveRequest(s, { count: MAX_BATCH + 1, issueDate: '2026-01-01' }))),
    ).toBe('VALIDATION_FAILED');
    expect(inAcme(() => resolveRequest(s, { count: MAX_BATCH, issueDate: '2026-01-01' })).count).toBe(
      MAX_BATCH,
    );
  });

  it('the last safe integer is allocatable; one past it is SEQUENCER_EXHAUSTED with the counter key', () => {
    const key = { tenant: 'acme', series: 'inv', period: '2026', start: 1 };
    expect(MAX_SEQUENCE_NUMBER).toBe(Number.MAX_SAFE_INTEGER);
    expect(codeOf(() => checkRange(key, MAX_SEQUENCE_NUMBER))).toBe('ok');
    expect(codeOf(() => checkRange(key, MAX_SEQUENCE_NUMBER - 1))).toBe('ok');
    expect(codeOf(() => checkRange(key, 1))).toBe('ok');
    for (const last of [MAX_SEQUENCE_NUMBER + 1, MAX_SEQUENCE_NUMBER + 2, Number.POSITIVE_INFINITY, 1.5]) {
      expect(codeOf(() => checkRange(key, last))).toBe('SEQUENCER_EXHAUSTED');
    }
    try {
      checkRange(key, MAX_SEQUENCE_NUMBER + 2);
    } catch (e) {
      expect((e as { details?: unknown }).details).toEqual({ tenant: 'acme', series: 'inv', period: '2026' });
      expect((e as Error).message).toContain('inv');
    }
  });

  it('builds consecutive frozen allocations carrying the key, date and rendered number', () => {
    const s = defineSeries({ key: 'inv', period: 'yearly', format: '{tenant}/{period}/{n:03}' });
    const req = inAcme(() => resolveRequest(s, { issueDate: '2026-05-01', count: 2 }));
    const out = buildAllocations(s, req, MAX_SEQUENCE_NUMBER - 1);
    expect(out).toEqual([
      {
        tenant: 'acme',
        series: 'inv',
        period: '2026',
        number: MAX_SEQUENCE_NUMBER - 1,
        issueDate: '2026-05-01',
        formatted: `acme/2026/${MAX_SEQUENCE_NUMBER - 1}`,
      },
      {
        tenant: 'acme',
        series: 'inv',
        period: '2026',
        number: MAX_SEQUENCE_NUMBER,
        issueDate: '2026-05-01',
        formatted: `acme/2026/${MAX_SEQUENCE_NUMBER}`,
      },
    ]);
    expect(out.every((a) => Object.isFrozen(a))).toBe(true);
  });
});
