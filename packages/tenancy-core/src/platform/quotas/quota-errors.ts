import { type CoreErrorCode, TenantryError } from '../../kernel/errors.js';

/** The codes quotas raise (entries of `CoreErrorCodes`: `QUOTA_EXCEEDED` is 429 and retryable). */
export type QuotaErrorCode = Extract<CoreErrorCode, 'QUOTA_EXCEEDED' | 'QUOTA_UNKNOWN'>;

/**
 * Raised by quota operations. `details` carries the quota, tenant, limit, usage and reset time
 * (adapters map `QUOTA_EXCEEDED` to HTTP 429 with `Retry-After` from `details.resetAt`).
 */
export class QuotaError extends TenantryError {
  declare readonly code: QuotaErrorCode;
}
