import { parseInput } from '@tenantry/core';
import { z } from 'zod';

/** The largest request body both adapters accept unless configured otherwise (body-parser's default). */
export const DEFAULT_BODY_LIMIT = '100kb';

/** A body size limit: bytes, or body-parser syntax (`'100kb'`, `'1mb'`; k = 1024). */
export const BodyLimitSchema = z.union([
  z.string().regex(/^\d+(b|kb|mb)$/i, "must be bytes or a size like '100kb'"),
  z.number().int().positive(),
]);

const UNIT: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/**
 * A {@link BodyLimitSchema} value in bytes, as body-parser counts them (`'100kb'` → 102400).
 * @throws ValidationError `VALIDATION_FAILED` for anything else
 */
export function bodyLimitBytes(value: z.output<typeof BodyLimitSchema>): number {
  const limit = parseInput(BodyLimitSchema, value, 'body limit');
  if (typeof limit === 'number') return limit;
  const m = /^(\d+)(b|kb|mb)$/i.exec(limit) as RegExpExecArray;
  return Number(m[1]) * (UNIT[(m[2] as string).toLowerCase()] as number);
}
