import { isTenantryError, parseInput, TenantryError } from '@tenantry/core';
import type { z } from 'zod';

/**
 * Core's `parseInput` (→ `VALIDATION_FAILED`, paths only, never values), made total: an input whose
 * property getters throw (a hostile Proxy) also fails with `VALIDATION_FAILED`, never with whatever
 * the getter threw.
 * @internal
 */
export function parseSequencerInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  try {
    return parseInput(schema, input, what);
  } catch (e) {
    if (isTenantryError(e)) throw e;
    throw invalidInput(what, e);
  }
}

/** A `VALIDATION_FAILED` error for `what`, keeping the cause out of the message. @internal */
export function invalidInput(what: string, cause?: unknown, path: string[] = []): TenantryError {
  return new TenantryError('VALIDATION_FAILED', `Invalid ${what}`, {
    cause,
    details: { what, issues: [{ path, message: 'invalid input' }] },
  });
}
