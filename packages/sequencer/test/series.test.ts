import { runAsTenant } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import {
  defineSeries,
  findGapsAndDuplicates,
  formatNumber,
  isGapless,
  parseFormat,
  periodKey,
  toCalendarDate,
} from '../src/index.js';
import { buildAllocations, resolveRequest } from '../src/series.js';

const inAcme = <R>(fn: () => R): R => runAsTenant({ tenantId: 'acme', actor: { id: 'u' } }, fn);

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

describe('series definitions', () => {
  it('applies defaults and freezes the definition', () => {
    const s = defineSeries({ key: 'invoice' });
    expect(s).toMatchObject({
      key: 'invoice',
      period: 'none',
      start: 1,
      format: '{n}',
      prefix: '',
      chronology: false,
      timeZone: 'UTC',
    });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('is defined once at module scope, with no tenant; each allocation takes the tenant from the context', () => {
    const s = defineSeries({ key: 'invoice' });
    expect('tenant' in s).toBe(false);
    expect(
      runAsTenant({ tenantId: 'ctx-a', actor: { id: 'u1' } }, () => resolveRequest(s, {}).key.tenant),
    ).toBe('ctx-a');
    expect(
      runAsTenant({ tenantId: 'ctx-b', actor: { id: 'u1' } }, () => resolveRequest(s, {}).key.tenant),
    ).toBe('ctx-b');
    expect(codeOf(() => resolveRequest(s, {}))).toBe('TENANT_CONTEXT_MISSING');
    // A tenant on the definition is refused: it would freeze one tenant into a shared definition.
    expect(codeOf(() => defineSeries({ tenant: 'acme', key: 'invoice' } as never))).toBe('VALIDATION_FAILED');
  });

  it.each([
    [{ key: '' }],
    [{ key: 'bad key' }],
    [{ key: 'k{x}' }],
    [{ key: 'invoice', tenant: 'acme' }],
    [{ key: 'invoice', start: -1 }],
    [{ key: 'invoice', start: 1.5 }],
    [{ key: 'invoice', format: 'F-{yyyy}' }],
    [{ key: 'invoice', format: '{n}{n}' }],
    [{ key: 'invoice', format: '{n:099}' }],
    [{ key: 'invoice', format: '{nope}-{n}' }],
    [{ key: 'invoice', format: '{n} }' }],
    [{ key: 'invoice', prefix: 'a{b' }],
    [{ key: 'invoice', period: 'weekly' }],
    [{ key: 'invoice', timeZone: 'Mars/Olympus' }],
    [{ key: 'invoice', extra: true }],
  ])('rejects %j with VALIDATION_FAILED', (input) => {
    expect(codeOf(() => defineSeries(input as never))).toBe('VALIDATION_FAILED');
  });
});

describe('format templates', () => {
  it('renders prefix, dates, period and zero-padded numbers', () => {
    const parts = parseFormat('{prefix}{yyyy}-{n:08}');
    const v = {
      prefix: 'CCS-',
      series: 'invoice',
      tenant: 'acme',
      period: '2026',
      issueDate: '2026-03-14',
      number: 42,
    };
    expect(formatNumber(parts, v)).toBe('CCS-2026-00000042');
    expect(formatNumber(parseFormat('{series}/{yy}{mm}/{n}'), v)).toBe('invoice/2603/42');
    expect(formatNumber(parseFormat('{tenant}:{period}:{n:3}'), { ...v, number: 123456 })).toBe(
      'acme:2026:123456',
    );
  });

  it('formats every number of a batch', () => {
    const s = defineSeries({
      key: 'inv',
      period: 'monthly',
      start: 9,
      format: '{prefix}{yyyy}{mm}-{n:04}',
      prefix: 'B1-',
    });
    const req = inAcme(() => resolveRequest(s, { issueDate: '2026-02-27', count: 3 }));
    expect(req.key).toEqual({ tenant: 'acme', series: 'inv', period: '2026-02', start: 9 });
    expect(buildAllocations(s, req, 9).map((a) => a.formatted)).toEqual([
      'B1-202602-0009',
      'B1-202602-0010',
      'B1-202602-0011',
    ]);
  });
});

describe('periods come from the caller-given issue date', () => {
  it('maps dates to period keys', () => {
    expect(periodKey('none', undefined)).toBe('');
    expect(periodKey('yearly', '2026-12-31')).toBe('2026');
    expect(periodKey('monthly', '2026-01-05')).toBe('2026-01');
  });

  it('reads a Date in the series time zone, not UTC', () => {
    const instant = new Date('2026-01-01T02:00:00Z');
    expect(toCalendarDate(instant, 'UTC')).toBe('2026-01-01');
    expect(toCalendarDate(instant, 'America/Caracas')).toBe('2025-12-31');
    const s = defineSeries({ key: 'inv', period: 'yearly', timeZone: 'America/Caracas' });
    expect(inAcme(() => resolveRequest(s, { issueDate: instant })).key.period).toBe('2025');
  });

  it('requires the issue date for periodic, chronological and dated series', () => {
    for (const def of [{ period: 'yearly' as const }, { chronology: true }, { format: '{yyyy}-{n}' }]) {
      const s = defineSeries({ key: 'inv', ...def });
      expect(inAcme(() => codeOf(() => resolveRequest(s, {})))).toBe('SEQUENCER_ISSUE_DATE_REQUIRED');
    }
    const plain = defineSeries({ key: 'inv' });
    expect(inAcme(() => resolveRequest(plain, {})).key.period).toBe('');
    expect(inAcme(() => codeOf(() => resolveRequest(plain, { issueDate: '2026-02-30' })))).toBe(
      'VALIDATION_FAILED',
    );
    expect(inAcme(() => codeOf(() => resolveRequest(plain, { count: 0 })))).toBe('VALIDATION_FAILED');
  });

  it('refuses naming another tenant inside a tenant context, and any tenant outside one (T1)', () => {
    const s = defineSeries({ key: 'inv' });
    expect(
      runAsTenant({ tenantId: 'other', actor: { id: 'u' } }, () =>
        codeOf(() => resolveRequest(s, { tenantId: 'acme' })),
      ),
    ).toBe('TENANT_CONTEXT_CONFLICT');
    expect(inAcme(() => codeOf(() => resolveRequest(s, { tenantId: 'acme' })))).toBe('ok');
    expect(codeOf(() => resolveRequest(s, { tenantId: 'acme' }))).toBe('TENANT_CONTEXT_MISSING');
  });
});

describe('findGapsAndDuplicates', () => {
  it('reports gaps, duplicates and numbers below the start', () => {
    const r = findGapsAndDuplicates([5, 3, 3, 8, 1], 1);
    expect(r.gaps).toEqual([
      { from: 2, to: 2 },
      { from: 4, to: 4 },
      { from: 6, to: 7 },
    ]);
    expect(r.duplicates).toEqual([{ number: 3, count: 2 }]);
    expect(isGapless(r)).toBe(false);
    expect(isGapless(findGapsAndDuplicates([3, 1, 2], 1))).toBe(true);
    expect(findGapsAndDuplicates([2, 3], 1).gaps).toEqual([{ from: 1, to: 1 }]);
    expect(findGapsAndDuplicates([0, 1], 1).belowStart).toBe(true);
  });
});
