import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CoreErrorCodes,
  QuotaError,
  TenancyModelError,
  TenantryError,
  errorCodeSpec,
  isTenantryError,
} from '../src/index.js';

const srcDir = new URL('../src/', import.meta.url).pathname;
const sources = (readdirSync(srcDir, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(join(srcDir, f), 'utf8'));

describe('one error-code table (CoreErrorCodes)', () => {
  it('every code core raises is declared in it (so its status is known to the adapters)', () => {
    const raised = new Set<string>();
    const pattern = /(?:Error|notFound|exists|missingRef)\(\s*'([A-Z][A-Z0-9_]+)'/g;
    for (const text of sources) for (const m of text.matchAll(pattern)) raised.add(m[1]!);
    for (const text of sources)
      for (const m of text.matchAll(/refuse\(\s*'([A-Z][A-Z0-9_]+)'/g)) raised.add(m[1]!);
    expect(raised.size).toBeGreaterThan(20);
    expect([...raised].filter((code) => !(code in CoreErrorCodes))).toEqual([]);
  });

  it('maps the codes adapters answer with to their HTTP status and retryability', () => {
    const spec = (code: keyof typeof CoreErrorCodes) => {
      const s = errorCodeSpec(code);
      return [s.status, s.retryable === true];
    };
    expect(spec('QUOTA_EXCEEDED')).toEqual([429, true]);
    expect(spec('MAINTENANCE_GLOBAL')).toEqual([503, true]);
    expect(spec('ILLEGAL_TRANSITION')).toEqual([409, false]);
    expect(spec('CONCURRENT_MODIFICATION')).toEqual([409, false]);
    expect(spec('NOT_FOUND')).toEqual([404, false]);
    expect(spec('TENANT_SUSPENDED')).toEqual([403, false]);
    expect(spec('TENANT_ARCHIVED')).toEqual([410, false]);
    expect(spec('VALIDATION_FAILED')).toEqual([400, false]);
    expect(new QuotaError('QUOTA_EXCEEDED', 'x').status).toBe(429);
    expect(new TenancyModelError('ALREADY_EXISTS', 'x').status).toBe(409);
  });
});

describe('TenantryError', () => {
  it('carries a stable code and safe details, and its JSON omits the cause chain', () => {
    const cause = new Error('password=hunter2');
    const err = new TenantryError('SOMETHING_FAILED', 'It failed', { cause, details: { id: 7 } });
    expect(err.code).toBe('SOMETHING_FAILED');
    expect(err.cause).toBe(cause);
    expect(JSON.stringify(err)).not.toContain('hunter2');
    expect(err.toJSON()).toEqual({
      name: 'TenantryError',
      code: 'SOMETHING_FAILED',
      message: 'It failed',
      details: { id: 7 },
    });
    expect(isTenantryError(err)).toBe(true);
    expect(isTenantryError(err, 'SOMETHING_FAILED')).toBe(true);
    expect(isTenantryError(err, 'OTHER')).toBe(false);
    expect(isTenantryError(new Error('x'))).toBe(false);
    expect(isTenantryError({ code: 'SOMETHING_FAILED' })).toBe(false);
  });

  it('subclasses keep their name', () => {
    class SequencerError extends TenantryError {}
    expect(new SequencerError('X', 'y').name).toBe('SequencerError');
  });
});
