import { TenantryError, type TenantryErrorOptions } from '@tenantry/core';

/** Error codes raised by `@tenantry/audit`. Stable API: match on them, never on messages. */
export const AuditErrorCodes = {
  /** The sink (or every sink of a fan-out) failed to store an event, and the action is fail-closed. */
  AUDIT_WRITE_FAILED: 'AUDIT_WRITE_FAILED',
  /** A fail-open event could be neither written nor spooled to disk: it was not accepted. */
  AUDIT_SPOOL_FAILED: 'AUDIT_SPOOL_FAILED',
  /** The bounded buffer is full and the caller asked not to wait. */
  AUDIT_BUFFER_FULL: 'AUDIT_BUFFER_FULL',
  /** The audit log was closed; no more events are accepted. */
  AUDIT_CLOSED: 'AUDIT_CLOSED',
  /** Metadata or changes exceed the configured size limits, or hold values that are not JSON. */
  AUDIT_EVENT_TOO_LARGE: 'AUDIT_EVENT_TOO_LARGE',
  /** A value in the event cannot be stored exactly (non-JSON value, NUL character, lone surrogate). */
  AUDIT_VALUE_UNSUPPORTED: 'AUDIT_VALUE_UNSUPPORTED',
  /** The sink cannot do what was asked (e.g. reading from a write-only stdout sink). */
  AUDIT_CAPABILITY_MISSING: 'AUDIT_CAPABILITY_MISSING',
  /** A checkpoint's signature or content does not verify. */
  AUDIT_CHECKPOINT_INVALID: 'AUDIT_CHECKPOINT_INVALID',
  /** A query cursor is malformed or belongs to another query. */
  AUDIT_CURSOR_INVALID: 'AUDIT_CURSOR_INVALID',
  /** The spool directory is held by another live process. */
  AUDIT_SPOOL_LOCKED: 'AUDIT_SPOOL_LOCKED',
} as const;

export type AuditErrorCode = (typeof AuditErrorCodes)[keyof typeof AuditErrorCodes];

/**
 * Base error of `@tenantry/audit`; `code` is one of {@link AuditErrorCodes} or core's `VALIDATION_FAILED`.
 * Messages never contain event contents (they may hold personal data).
 */
export class AuditError extends TenantryError {
  constructor(code: AuditErrorCode, message: string, options: TenantryErrorOptions = {}) {
    super(code, message, options);
  }
}
