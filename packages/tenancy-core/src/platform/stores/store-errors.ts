import { TenancyModelError } from '../model/errors.js';

/** @internal Shared by the backends. */
export function exists(what: string, id: string): TenancyModelError {
  return new TenancyModelError('ALREADY_EXISTS', `The ${what} already exists`, {
    details: { [`${what}Id`]: id },
  });
}
/** @internal Shared by the backends. */
export function notFound(what: string, id: string): TenancyModelError {
  return new TenancyModelError('NOT_FOUND', `No such ${what}`, { details: { [`${what}Id`]: id } });
}
/** @internal Shared by the backends. */
export function missingRef(what: string, id: string): TenancyModelError {
  return new TenancyModelError('REFERENCE_NOT_FOUND', `The referenced ${what} does not exist`, {
    details: { [`${what}Id`]: id },
  });
}
