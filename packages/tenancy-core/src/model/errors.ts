import { TenantryError, type TenantryErrorOptions } from '../errors.js';

/** Error codes of the tenancy model, stores, cache, gatekeeper and settings. Stable API. */
export const ModelErrorCodes = {
  /** A lifecycle transition that the state machine does not allow (e.g. ARCHIVED → ACTIVE). */
  ILLEGAL_TRANSITION: 'ILLEGAL_TRANSITION',
  /** A conditional write lost: the record changed since it was read (another process moved it first). */
  CONCURRENT_MODIFICATION: 'CONCURRENT_MODIFICATION',
  /** The partner, tenant, plan or subscription does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** A record with that id already exists, or the tenant already has a live subscription. */
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  /** A reference to a partner, tenant or plan that does not exist. */
  REFERENCE_NOT_FOUND: 'REFERENCE_NOT_FOUND',
  /** A stored setting value does not match its definition. */
  SETTING_INVALID: 'SETTING_INVALID',
  /** Reading an undefined setting. */
  SETTING_UNKNOWN: 'SETTING_UNKNOWN',
  /** The invalidation bus's subscription is down (a cache then reads through to the store). */
  INVALIDATION_BUS_DOWN: 'INVALIDATION_BUS_DOWN',
  /** An applied migration's SQL differs from the one the package ships. */
  MIGRATION_CHECKSUM_MISMATCH: 'MIGRATION_CHECKSUM_MISMATCH',
} as const;

/** A code from {@link ModelErrorCodes}. */
export type ModelErrorCode = (typeof ModelErrorCodes)[keyof typeof ModelErrorCodes];

/** Errors raised by the tenancy model and its stores. Match on `code`. */
export class TenancyModelError extends TenantryError {
  declare readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string, options?: TenantryErrorOptions) {
    super(code, message, options);
  }
}
