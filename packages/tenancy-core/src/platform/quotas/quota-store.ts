import { z } from 'zod';
import { TenantIdSchema } from '../../kernel/identity.js';

/**
 * A quota name: lower-case letters, digits, `.`, `_` and `-`, 1–64 characters, starting alphanumeric.
 * The alphabet has no `{`, `}` or `:`, so a name can be embedded in Redis keys and hash tags safely.
 */
export const QuotaNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 chars of [a-z0-9._-], starting alphanumeric');

/** A quota limit or amount: a non-negative safe integer. */
export const QuotaLimitSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** A refund amount: a positive safe integer. */
export const QuotaAmountSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * One atomic request to a {@link QuotaStore}: add `amount` to the counter of
 * (`tenantId`, `quota`, `windowStart`) unless that would take it past `limit`.
 */
export const QuotaConsumeRequestSchema = z.object({
  tenantId: TenantIdSchema,
  quota: QuotaNameSchema,
  /** Start of the window, in ms since the epoch; part of the counter's identity. */
  windowStart: z.number().int().nonnegative(),
  /** When the counter may be forgotten, in ms since the epoch (the window end plus a grace period). */
  expiresAt: z.number().int().nonnegative(),
  /** The application clock's "now", in ms since the epoch; stores compute TTLs from it, never from their own clock. */
  now: z.number().int().nonnegative(),
  /** Units to take, at least 1. */
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** The most the counter may reach in this window. */
  limit: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});
export type QuotaConsumeRequest = z.output<typeof QuotaConsumeRequestSchema>;

/** What a store answers to a consume request. */
export interface QuotaConsumeResult {
  /** Whether `amount` was added. A refused request adds nothing (no partial grants). */
  readonly granted: boolean;
  /** The counter after the request (unchanged when refused). */
  readonly used: number;
}

/** Identifies one window's counter. */
export interface QuotaCounterRef {
  readonly tenantId: string;
  readonly quota: string;
  readonly windowStart: number;
}

/**
 * The backend port for quota counters. Implementations must make `consume` atomic across every
 * process that shares the store: the sum of granted amounts for one counter never exceeds the limit
 * given with the requests. One conformance suite (`quotaStoreConformance` in `@tenantry/core/testing`)
 * states the contract; memory, PostgreSQL and Redis backends pass it.
 */
export interface QuotaStore {
  /** Backend name for diagnostics, e.g. `memory`, `postgres`, `redis`. */
  readonly kind: string;
  /** Atomically add `amount` unless the counter would pass `limit`. */
  consume(request: QuotaConsumeRequest): Promise<QuotaConsumeResult>;
  /** Current value of a counter; 0 when it does not exist or has expired. */
  peek(ref: QuotaCounterRef, now: number): Promise<number>;
  /** Give back up to `amount` units (e.g. an email that was never sent). The counter never goes below 0. */
  refund(ref: QuotaCounterRef, amount: number, now: number): Promise<number>;
}
