import { TenantryError, type TenantryErrorOptions, defineErrorCodes } from '@tenantry/core';

/** The app's own error codes; the adapter maps each to its status as problem+json. */
export const InvoicingErrorCodes = defineErrorCodes({
  /** Wrong email or password (also for an unknown account: the answer does not say which). */
  INVOICING_BAD_CREDENTIALS: { status: 401 },
  INVOICING_NOT_FOUND: { status: 404 },
  /** The document or customer is not in a state that allows this (e.g. already void). */
  INVOICING_INVALID_STATE: { status: 409 },
  /** The feature is switched off for this tenant (settings / feature flags). */
  INVOICING_FEATURE_OFF: { status: 403 },
  /** The environment is inconsistent (e.g. half an S3 key pair): thrown at start, never by a request. */
  INVOICING_CONFIG_INVALID: { status: 500 },
  /** A store did not answer at start (e.g. MongoDB while creating its indexes). Retry the start. */
  INVOICING_STORE_UNAVAILABLE: { status: 503, retryable: true },
});
export type InvoicingErrorCode = keyof typeof InvoicingErrorCodes;

export class InvoicingError extends TenantryError {
  declare readonly code: InvoicingErrorCode;
  constructor(code: InvoicingErrorCode, message: string, options: TenantryErrorOptions = {}) {
    super(code, message, options);
  }
}
