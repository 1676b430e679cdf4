import { ValidationError } from '@tenantry/core';

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
