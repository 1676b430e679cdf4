import { TenantryError } from '@tenantry/core';
import { z } from 'zod';

const badTemplate = (reason: string): TenantryError =>
  new TenantryError('VALIDATION_FAILED', `Invalid format template: ${reason}`, {
    details: { what: 'format template', issues: [{ path: [], message: reason }] },
  });

/** One parsed piece of a format template. */
export type FormatPart =
  | { kind: 'literal'; text: string }
  | { kind: 'prefix' | 'series' | 'tenant' | 'yyyy' | 'yy' | 'mm' | 'period' }
  | { kind: 'n'; width: number };

const TOKEN = /\{([a-z]+)(?::0?(\d{1,2}))?\}/g;
const NAMED = new Set(['prefix', 'series', 'tenant', 'yyyy', 'yy', 'mm', 'period']);
const DATE_TOKENS = new Set(['yyyy', 'yy', 'mm']);

/**
 * Parse a format template such as `{prefix}{yyyy}-{n:08}`. Tokens: `{prefix}`, `{series}`, `{tenant}`,
 * `{yyyy}`, `{yy}`, `{mm}` (from the issue date), `{period}` (the period key), `{n}` or `{n:0W}`
 * (the number, zero-padded to W digits, 1–20). Exactly one `{n…}`; other text is literal and may not
 * contain `{` or `}`.
 * @throws TenantryError `VALIDATION_FAILED` with the reason when the template is malformed
 * @example parseFormat('{prefix}{yyyy}-{n:08}')
 */
export function parseFormat(template: string): FormatPart[] {
  if (typeof template !== 'string' || template.length === 0 || template.length > 200) {
    throw badTemplate('must be a string of 1-200 characters');
  }
  const parts: FormatPart[] = [];
  let last = 0;
  let numbers = 0;
  for (const m of template.matchAll(TOKEN)) {
    const literal = template.slice(last, m.index);
    if (literal) parts.push({ kind: 'literal', text: literal });
    last = m.index + m[0].length;
    const name = m[1] as string;
    if (name === 'n') {
      const width = m[2] === undefined ? 0 : Number(m[2]);
      if (width > 20) throw badTemplate('{n:0W} width must be at most 20');
      parts.push({ kind: 'n', width });
      numbers++;
    } else if (NAMED.has(name) && m[2] === undefined) {
      parts.push({ kind: name as 'prefix' });
    } else {
      throw badTemplate(`unknown token {${name}${m[2] === undefined ? '' : `:${m[2]}`}}`);
    }
  }
  const tail = template.slice(last);
  if (tail) parts.push({ kind: 'literal', text: tail });
  for (const p of parts) {
    if (p.kind === 'literal' && /[{}]/.test(p.text)) throw badTemplate('stray { or } outside a token');
  }
  if (numbers !== 1) throw badTemplate('must contain exactly one {n} or {n:0W} token');
  return parts;
}

/** Whether a parsed template needs the issue date (`{yyyy}`, `{yy}`, `{mm}`). */
export function formatNeedsDate(parts: readonly FormatPart[]): boolean {
  return parts.some((p) => DATE_TOKENS.has(p.kind));
}

/** A format template, validated when the series is defined. */
export const FormatTemplateSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((value, ctx) => {
    try {
      parseFormat(value);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

/** The values a template is filled with. */
export interface FormatValues {
  prefix: string;
  series: string;
  tenant: string;
  period: string;
  /** The issue date as `YYYY-MM-DD`, when known. */
  issueDate: string | undefined;
  number: number;
}

/**
 * Render a parsed template. Date tokens need `issueDate` (the sequencer checks this before allocating).
 * @example formatNumber(parseFormat('{prefix}{yyyy}-{n:08}'), { prefix: 'F', issueDate: '2026-03-01', number: 7, … }) // 'F2026-00000007'
 */
export function formatNumber(parts: readonly FormatPart[], v: FormatValues): string {
  try {
    return render(parts, v);
  } catch (e) {
    throw new TenantryError('VALIDATION_FAILED', 'Invalid format parts or values', {
      cause: e,
      details: {
        what: 'formatNumber',
        issues: [{ path: [], message: 'expected parseFormat() output and format values' }],
      },
    });
  }
}

const KINDS = new Set(['literal', 'n', ...NAMED]);

function render(parts: readonly FormatPart[], v: FormatValues): string {
  if (!Array.isArray(parts) || typeof v !== 'object' || v === null) throw new TypeError('bad arguments');
  if (!Number.isSafeInteger(v.number) || v.number < 0) throw new TypeError('bad number');
  let out = '';
  for (const p of parts) {
    if (!KINDS.has(p?.kind)) throw new TypeError('bad part');
    switch (p.kind) {
      case 'literal':
        if (typeof p.text !== 'string') throw new TypeError('bad literal');
        out += p.text;
        break;
      case 'n':
        out += String(v.number).padStart(Math.min(20, Math.max(0, Number(p.width) || 0)), '0');
        break;
      case 'yyyy':
        out += (v.issueDate ?? '').slice(0, 4);
        break;
      case 'yy':
        out += (v.issueDate ?? '').slice(2, 4);
        break;
      case 'mm':
        out += (v.issueDate ?? '').slice(5, 7);
        break;
      default: {
        const value = v[p.kind as 'prefix' | 'series' | 'tenant' | 'period'];
        if (typeof value !== 'string') throw new TypeError('bad value');
        out += value;
      }
    }
  }
  return out;
}
