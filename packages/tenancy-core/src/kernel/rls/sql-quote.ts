import { z } from 'zod';
import { TenantryError } from '../errors.js';
import { isWellFormedUnicode } from '../validation.js';

/**
 * A PostgreSQL identifier we are willing to quote: 1–63 bytes (PostgreSQL silently truncates longer
 * names, which could make two names collide), no NUL.
 */
export const PgIdentifierSchema = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s, 'utf8') <= 63, 'must be at most 63 bytes')
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL')
  // A lone surrogate would be sent as U+FFFD, so two different names could reach the server as one.
  .refine((s) => isWellFormedUnicode(s), 'must be well-formed Unicode (no lone surrogates)');

/**
 * Quote an identifier for PostgreSQL (`"` doubled), whatever it contains.
 * @throws TenantryError `VALIDATION_FAILED` for an empty, over-long or NUL-containing name
 * @example quoteIdent('Order "items"') // '"Order ""items"""'
 */
export function quoteIdent(name: string): string {
  const r = PgIdentifierSchema.safeParse(name);
  if (!r.success) {
    throw new TenantryError('VALIDATION_FAILED', 'Invalid PostgreSQL identifier', {
      details: { issues: r.error.issues.map((i) => i.message) },
    });
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Quote a string literal for PostgreSQL (`'` doubled; with `standard_conforming_strings`, the default
 * since 9.1, backslashes are literal). NUL and lone surrogates are refused.
 * @throws TenantryError `VALIDATION_FAILED` when the value is not a string, contains NUL or is not well-formed Unicode
 */
export function quoteLiteral(value: string): string {
  if (typeof value !== 'string') throw new TenantryError('VALIDATION_FAILED', 'Literal must be a string');
  if (value.includes('\u0000')) throw new TenantryError('VALIDATION_FAILED', 'Literal must not contain NUL');
  if (!isWellFormedUnicode(value)) {
    throw new TenantryError('VALIDATION_FAILED', 'Literal must be well-formed Unicode (no lone surrogates)');
  }
  return `'${value.replace(/'/g, "''")}'`;
}
