import { z } from 'zod';
import { resolveTenantId } from '../../kernel/tenant-resolution.js';
import { TenantIdSchema } from '../../kernel/identity.js';
import { systemClock, type Clock } from '../../kernel/ports/clock.js';
import { withSpan } from '../../kernel/telemetry.js';
import { ValidationError, parseInput } from '../../kernel/validation.js';
import { QuotaError } from './quota-errors.js';
import { QuotaLimitSchema, QuotaNameSchema, type QuotaStore } from './quota-store.js';
import { QuotaWindowSchema, type QuotaWindow, windowBounds } from './windows.js';

/** How one quota is counted. */
export const QuotaDefinitionSchema = z
  .object({
    /** The counting window. */
    window: QuotaWindowSchema,
    /**
     * The limit when `limitFor` returns `undefined` (no plan value). Omit it to refuse such tenants with
     * `QUOTA_UNKNOWN` (fail closed). `null` means unlimited (still counted).
     */
    defaultLimit: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  })
  .strict();
export type QuotaDefinition = z.input<typeof QuotaDefinitionSchema>;

/** Options of {@link createQuotas}. */
export interface QuotasOptions {
  /** Where counters live: `MemoryQuotaStore`, `PostgresQuotaStore`, `RedisQuotaStore`, or your own. */
  store: QuotaStore;
  /** The quotas, by name (see `QuotaNameSchema`), e.g. `{ emails: { window: 'day' } }`. */
  quotas: Record<string, QuotaDefinition>;
  /**
   * The tenant's limit for a quota, usually read from its plan (`plan.quotas.emails`). Return a
   * number, `null` for unlimited, or `undefined` to fall back to `defaultLimit`.
   * @default () => undefined
   */
  limitFor?: (
    tenantId: string,
    quota: string,
  ) => number | null | undefined | Promise<number | null | undefined>;
  /** @default systemClock */
  clock?: Clock;
  /**
   * How long counters are kept after their window ends, in ms (covers clock skew between app servers).
   * @default 60000
   */
  graceMs?: number;
}

/** Options of one consume call. */
export const ConsumeOptionsSchema = z
  .object({
    /** Units to take. @default 1 */
    amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(1),
    /** The tenant, resolved with `resolveTenantId`: the context's when omitted; another tenant only inside `runAsSystem`. */
    tenantId: TenantIdSchema.optional(),
  })
  .strict();
export type ConsumeOptions = z.input<typeof ConsumeOptionsSchema>;

/** Options of a refund: which consumption to give back, identified by the window it was counted in. */
export const RefundOptionsSchema = z
  .object({
    /** Units to give back. @default 1 */
    amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(1),
    /** The tenant; resolved like {@link ConsumeOptionsSchema}'s. */
    tenantId: TenantIdSchema.optional(),
    /**
     * The `windowStart` of the state `consume`/`tryConsume` returned for the units being given back: the
     * refund goes to that window's counter, never to whatever window is current when it runs.
     */
    windowStart: z.date(),
  })
  .strict();
export type RefundOptions = z.input<typeof RefundOptionsSchema>;

/** The state of a quota after an operation. `limit` is `null` when unlimited. */
export interface QuotaState {
  readonly tenantId: string;
  readonly quota: string;
  readonly used: number;
  readonly limit: number | null;
  /** `null` when unlimited. */
  readonly remaining: number | null;
  readonly windowStart: Date;
  /** When the window ends and the counter starts again from zero. */
  readonly resetAt: Date;
}

/** Result of {@link Quotas.tryConsume}. */
export type TryConsumeResult = ({ readonly ok: true } & QuotaState) | ({ readonly ok: false } & QuotaState);

/** Per-tenant windowed counters (emails per day, API calls per minute…). */
export interface Quotas {
  /**
   * Take `amount` units, or refuse without taking any.
   * @throws QuotaError `QUOTA_EXCEEDED` when the window's limit would be passed
   * @throws QuotaError `QUOTA_UNKNOWN` for an unconfigured quota or a tenant with no limit
   * @throws TenantryError `TENANT_CONTEXT_MISSING` outside any context, `TENANT_CONTEXT_CONFLICT` naming another tenant than the context's
   */
  consume(quota: string, options?: ConsumeOptions): Promise<QuotaState>;
  /** Like {@link Quotas.consume} but reports a refusal as `{ ok: false }` instead of throwing `QUOTA_EXCEEDED`. */
  tryConsume(quota: string, options?: ConsumeOptions): Promise<TryConsumeResult>;
  /** Current usage without consuming. */
  usage(quota: string, options?: { tenantId?: string }): Promise<QuotaState>;
  /**
   * Give back units (e.g. a send that failed) to the window they were counted in: pass the
   * `windowStart` of the state `consume` returned. Once that window has closed a refund does nothing
   * (the returned state is that window's, unchanged); a counter never goes below zero.
   * @throws ValidationError `VALIDATION_FAILED` when `windowStart` is not the start of a window of this quota, or lies ahead
   * @example
   * const taken = await quotas.consume('emails');
   * try { await send(); } catch (e) { await quotas.refund('emails', { windowStart: taken.windowStart }); throw e; }
   */
  refund(quota: string, options: RefundOptions): Promise<QuotaState>;
}

/**
 * Create the quota service. Windows are fixed and aligned to UTC on the injected clock (see
 * `QuotaWindowSchema`); each consume is one atomic store operation.
 * @throws ValidationError `VALIDATION_FAILED` on malformed definitions
 * @example
 * const quotas = createQuotas({ store: new MemoryQuotaStore(), quotas: { emails: { window: 'day' } },
 *   limitFor: async (tenantId, q) => (await plans.forTenant(tenantId)).quotas[q] });
 * await quotas.consume('emails'); // throws QUOTA_EXCEEDED past the plan's daily limit
 */
export function createQuotas(options: QuotasOptions): Quotas {
  if (
    options === null ||
    typeof options !== 'object' ||
    options.quotas === null ||
    typeof options.quotas !== 'object' ||
    typeof (options.store as QuotaStore | undefined)?.consume !== 'function'
  ) {
    throw new ValidationError('quotas options', [
      { path: [], message: 'must be { store: QuotaStore, quotas: { [name]: definition } }' },
    ]);
  }
  const clock = options.clock ?? systemClock;
  const graceMs = parseInput(z.number().int().nonnegative(), options.graceMs ?? 60_000, 'quota graceMs');
  const defs = new Map<string, { window: QuotaWindow; defaultLimit?: number | null | undefined }>();
  for (const [name, def] of Object.entries(options.quotas)) {
    parseInput(QuotaNameSchema, name, 'quota name');
    defs.set(name, parseInput(QuotaDefinitionSchema, def, `quota ${name}`));
  }
  const store = options.store;

  const resolve = async (quota: string, tenant: string | undefined) => {
    if (typeof quota !== 'string') parseInput(QuotaNameSchema, quota, 'quota name');
    const def = defs.get(quota);
    if (!def) {
      throw new QuotaError('QUOTA_UNKNOWN', `Quota ${quota} is not configured`, { details: { quota } });
    }
    const tenantId = resolveTenantId(tenant, 'quota');
    const fromPlan = await options.limitFor?.(tenantId, quota);
    const limit = fromPlan === undefined ? def.defaultLimit : fromPlan;
    if (limit === undefined) {
      throw new QuotaError('QUOTA_UNKNOWN', `No limit for quota ${quota} for this tenant`, {
        details: { quota, tenantId },
      });
    }
    if (limit !== null) parseInput(QuotaLimitSchema, limit, `limit of quota ${quota}`);
    const now = clock.now().getTime();
    const bounds = windowBounds(def.window, now);
    return { tenantId, limit, now, bounds };
  };

  const state = (r: Awaited<ReturnType<typeof resolve>>, quota: string, used: number): QuotaState => ({
    tenantId: r.tenantId,
    quota,
    used,
    limit: r.limit,
    remaining: r.limit === null ? null : Math.max(0, r.limit - used),
    windowStart: new Date(r.bounds.start),
    resetAt: new Date(r.bounds.end),
  });

  const tryConsume = (quota: string, opts: ConsumeOptions = {}): Promise<TryConsumeResult> =>
    withSpan('core', 'quota.consume', { 'tenantry.quota': quota }, async (span) => {
      const { amount, tenantId } = parseInput(ConsumeOptionsSchema, opts, 'consume options');
      const r = await resolve(quota, tenantId);
      span.setAttributes({ 'tenantry.tenant_id': r.tenantId, 'tenantry.quota.amount': amount });
      const limit = r.limit ?? Number.MAX_SAFE_INTEGER;
      let result: TryConsumeResult;
      if (amount > limit) {
        const used = await store.peek({ tenantId: r.tenantId, quota, windowStart: r.bounds.start }, r.now);
        result = { ok: false, ...state(r, quota, used) };
      } else {
        const res = await store.consume({
          tenantId: r.tenantId,
          quota,
          windowStart: r.bounds.start,
          expiresAt: r.bounds.end + graceMs,
          now: r.now,
          amount,
          limit,
        });
        result = { ok: res.granted, ...state(r, quota, res.used) };
      }
      span.setAttributes({ 'tenantry.quota.granted': result.ok, 'tenantry.quota.used': result.used });
      return result;
    });

  return Object.freeze({
    tryConsume,
    async consume(quota: string, opts?: ConsumeOptions): Promise<QuotaState> {
      const { ok, ...s } = await tryConsume(quota, opts);
      if (!ok) {
        throw new QuotaError('QUOTA_EXCEEDED', `Quota ${quota} exceeded for this window`, {
          details: {
            quota,
            tenantId: s.tenantId,
            limit: s.limit,
            used: s.used,
            resetAt: s.resetAt.toISOString(),
          },
        });
      }
      return s;
    },
    async usage(quota: string, opts: { tenantId?: string } = {}): Promise<QuotaState> {
      const r = await resolve(quota, opts.tenantId);
      return state(
        r,
        quota,
        await store.peek({ tenantId: r.tenantId, quota, windowStart: r.bounds.start }, r.now),
      );
    },
    refund: (quota: string, opts: RefundOptions): Promise<QuotaState> =>
      withSpan('core', 'quota.refund', { 'tenantry.quota': quota }, async (span) => {
        const { amount, tenantId, windowStart } = parseInput(RefundOptionsSchema, opts, 'refund options');
        const current = await resolve(quota, tenantId);
        span.setAttributes({ 'tenantry.tenant_id': current.tenantId, 'tenantry.quota.amount': amount });
        const start = windowStart.getTime();
        const bounds = windowBounds(defs.get(quota)!.window, start);
        if (bounds.start !== start || start > current.bounds.start) {
          throw new ValidationError('refund options', [
            {
              path: ['windowStart'],
              message: 'must be the windowStart that consume returned (not ahead of the current window)',
            },
          ]);
        }
        const r = { ...current, bounds };
        const ref = { tenantId: r.tenantId, quota, windowStart: start };
        // The window the units were counted in has closed: its limit no longer applies, nothing to give back.
        if (r.now >= bounds.end) {
          span.setAttribute('tenantry.quota.refunded', false);
          return state(r, quota, await store.peek(ref, r.now));
        }
        const used = await store.refund(ref, amount, r.now);
        span.setAttribute('tenantry.quota.refunded', true);
        return state(r, quota, used);
      }),
  });
}
