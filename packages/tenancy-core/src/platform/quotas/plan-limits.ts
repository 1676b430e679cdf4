import type { TenantConfigSource } from '../config-cache.js';
import type { QuotasOptions } from './quotas.js';

/**
 * Bridge from plans to quotas: a `limitFor` for {@link createQuotas} that reads each tenant's limit
 * from its current plan (`plan.quotas[name].limit`) through a config source, usually the
 * cross-process {@link TenantConfigCache}, so a plan change applies on the next consume everywhere.
 * A tenant without a plan, or a plan without that quota, yields `undefined` (the quota's
 * `defaultLimit`, else `QUOTA_UNKNOWN`: fail closed).
 *
 * The counting window is the quota definition's; the plan's `window` field documents it for
 * humans and billing. Keep them equal (a test in the host app is the cheap way to ensure it).
 * @example createQuotas({ store, quotas: { emails: { window: 'day' } }, limitFor: planQuotaLimits(cache) })
 */
export function planQuotaLimits(config: TenantConfigSource): NonNullable<QuotasOptions['limitFor']> {
  return async (tenantId, quota) => {
    const current = await config.get(tenantId);
    const limit = current?.plan?.quotas[quota]?.limit;
    return limit === undefined ? undefined : limit;
  };
}
