import { TenantryError } from '../errors.js';

/** Error codes raised by quotas. Stable API: match on them, never on messages. */
export const QuotaErrorCodes = {
  /** The request would take the tenant past its limit for the current window. */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /** The quota name is not configured, or no limit could be resolved for the tenant. */
  QUOTA_UNKNOWN: 'QUOTA_UNKNOWN',
} as const;
export type QuotaErrorCode = (typeof QuotaErrorCodes)[keyof typeof QuotaErrorCodes];

/**
 * Raised by quota operations. `details` carries the quota, tenant, limit, usage and reset time
 * (adapters map `QUOTA_EXCEEDED` to HTTP 429 with `Retry-After` from `details.resetAt`).
 */
export class QuotaError extends TenantryError {
  declare readonly code: QuotaErrorCode;
}
