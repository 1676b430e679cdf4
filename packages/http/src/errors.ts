import { TenantryError, type TenantryErrorOptions, defineErrorCodes } from '@tenantry/core';

/**
 * Error codes raised by `@tenantry/http` and the framework adapters built on it. Codes are stable API:
 * match on them, never on messages. Each carries the HTTP status the adapters answer with.
 */
export const HttpErrorCodes = defineErrorCodes({
  /** The request carries no bearer token and the route is not public. */
  HTTP_TOKEN_MISSING: { status: 401 },
  /** The token is malformed, forged, unsigned (`alg: none`), signed with a refused algorithm, or for another issuer or audience. One code, so the answer reveals nothing about why. */
  HTTP_TOKEN_INVALID: { status: 401 },
  /** The token's `exp` has passed (clock tolerance included). The client should refresh it. */
  HTTP_TOKEN_EXPIRED: { status: 401 },
  /**
   * The request is not authenticated, for a reason other than the token: e.g. a sign-in handler refused
   * the credentials it was given (Nest's `UnauthorizedException`). Says nothing about any token.
   */
  HTTP_UNAUTHORIZED: { status: 401 },
  /** The JWKS endpoint could not be reached or answered nonsense; tokens cannot be checked now. */
  HTTP_JWKS_UNAVAILABLE: { status: 503, retryable: true },
  /** Too many requests from this client or tenant in the current window. */
  HTTP_RATE_LIMITED: { status: 429, retryable: true },
  /** Too many failed sign-ins for this account; it is locked until the window ends. */
  HTTP_ACCOUNT_LOCKED: { status: 423, retryable: true },
  /** The store that holds the sign-in lockout counters (Redis) did not answer; the attempt was not judged. */
  HTTP_STORE_UNAVAILABLE: { status: 503, retryable: true },
  /** The request body exceeds the configured limit. */
  HTTP_PAYLOAD_TOO_LARGE: { status: 413 },
  /** The request is malformed (unparsable body, unsupported media type). */
  HTTP_BAD_REQUEST: { status: 400 },
  /** No route matches. */
  HTTP_NOT_FOUND: { status: 404 },
  /** A fail-closed route's audit event could not be written, so its response was withheld. */
  HTTP_AUDIT_UNAVAILABLE: { status: 503, retryable: true },
  /** The server is shutting down and takes no new requests. */
  HTTP_SHUTTING_DOWN: { status: 503, retryable: true },
});
/** One of {@link HttpErrorCodes}. */
export type HttpErrorCode = keyof typeof HttpErrorCodes;

/** Errors raised by `@tenantry/http` and the adapters. Match on `code`. */
export class HttpTenancyError extends TenantryError {
  declare readonly code: HttpErrorCode;
  constructor(code: HttpErrorCode, message: string, options?: TenantryErrorOptions) {
    super(code, message, options);
  }
}
