import { ValidationError } from '@tenantry/core';
import { z } from 'zod';

/**
 * Refuse a provider that is not an object (Nest injects real instances; a hand-built one with a wrong
 * argument gets `VALIDATION_FAILED` naming the parameter, never a TypeError later).
 * @internal
 */
export function checkInjected(what: string, values: Readonly<Record<string, unknown>>): void {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'object' || value === null) {
      throw new ValidationError(what, [{ path: [name], message: 'must be the injected provider' }]);
    }
  }
}

/** A route prefix given to a module (`/health`, `/ops/approvals`): a path starting with `/`. @internal */
export const RoutePathSchema = z
  .string()
  .max(256)
  .regex(/^\/[A-Za-z0-9._/-]*$/, 'must be a path starting with /');
