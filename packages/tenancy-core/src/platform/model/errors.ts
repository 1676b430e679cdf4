import { type CoreErrorCode, TenantryError, type TenantryErrorOptions } from '../../kernel/errors.js';

/** The codes of the tenancy model, stores, cache and settings (entries of `CoreErrorCodes`). */
export type ModelErrorCode = Extract<
  CoreErrorCode,
  | 'ILLEGAL_TRANSITION'
  | 'CONCURRENT_MODIFICATION'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'REFERENCE_NOT_FOUND'
  | 'SETTING_INVALID'
  | 'SETTING_UNKNOWN'
  | 'INVALIDATION_BUS_DOWN'
  | 'INVALIDATION_BUS_POOLED'
  | 'MIGRATION_CHECKSUM_MISMATCH'
>;

/** Errors raised by the tenancy model and its stores. Match on `code`. */
export class TenancyModelError extends TenantryError {
  declare readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string, options?: TenantryErrorOptions) {
    super(code, message, options);
  }
}
