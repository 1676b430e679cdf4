import {
  type Actor,
  type Partner,
  type Plan,
  type Subscription,
  SubscriptionStatusSchema,
  type Tenant,
  TenantStatusSchema,
  parseInput,
  runAsSystem,
} from '@tenantry/core';
import { z } from 'zod';
import { InvoicingError } from './errors.js';
import type { Services } from './services.js';

export interface TenantRow {
  tenant: Tenant;
  subscription: Subscription | null;
  plan: Plan | null;
}

export const TenantTransitionSchema = z.object({
  to: TenantStatusSchema,
  reason: z.string().trim().min(3).max(500),
});
export const SubscriptionTransitionSchema = z.object({ to: SubscriptionStatusSchema });
export const GlobalSettingsSchema = z.object({
  maintenance: z.boolean().optional(),
  flags: z
    .object({
      'feature.email-invoices': z.boolean().optional(),
      'feature.csv-export': z.boolean().optional(),
      'console.banner': z.string().max(200).optional(),
    })
    .optional(),
});

/**
 * Platform staff's work across tenants. Each call runs inside core's audited system scope, naming
 * who and why; a partner admin only ever sees the tenants of their partner.
 */
export function createPlatform(s: Services) {
  const system = <T>(actor: Actor, reason: string, fn: () => Promise<T>) =>
    runAsSystem({ actor, reason }, s.audit.port, fn);
  return {
    listPartners(actor: Actor): Promise<Partner[]> {
      return system(actor, 'platform console: partners', () => s.directory.store.listPartners());
    },
    listTenants(actor: Actor, partnerId?: string): Promise<TenantRow[]> {
      return system(actor, 'platform console: tenants', async () => {
        const tenants = await s.directory.store.listTenants(partnerId ? { partnerId } : {});
        return Promise.all(
          tenants.map(async (tenant) => {
            const subscription = await s.directory.store.currentSubscription(tenant.id);
            const plan = subscription ? await s.directory.store.getPlan(subscription.planId) : null;
            return { tenant, subscription, plan };
          }),
        );
      });
    },
    transitionTenant(actor: Actor, tenantId: string, input: unknown): Promise<Tenant> {
      const t = parseInput(TenantTransitionSchema, input, 'tenant transition');
      return system(actor, `tenant ${tenantId} → ${t.to}: ${t.reason}`, () =>
        s.directory.transitionTenant(tenantId, t.to, { reason: t.reason }),
      );
    },
    transitionSubscription(actor: Actor, tenantId: string, input: unknown): Promise<Subscription> {
      const t = parseInput(SubscriptionTransitionSchema, input, 'subscription transition');
      return system(actor, `subscription of ${tenantId} → ${t.to}`, async () => {
        const sub = await s.directory.store.currentSubscription(tenantId);
        if (!sub) throw new InvoicingError('INVOICING_NOT_FOUND', 'No subscription');
        return s.directory.transitionSubscription(sub.id, t.to);
      });
    },
    globalSettings(actor: Actor) {
      return system(actor, 'platform console: settings', () => s.directory.getPlatformSettings());
    },
    updateGlobalSettings(actor: Actor, input: unknown) {
      const g = parseInput(GlobalSettingsSchema, input, 'global settings');
      return system(actor, 'platform settings changed', async () => {
        const current = await s.directory.getPlatformSettings();
        const values = { ...current.values };
        for (const [k, v] of Object.entries(g.flags ?? {})) if (v !== undefined) values[k] = v;
        return s.directory.updatePlatformSettings({
          values,
          ...(g.maintenance === undefined ? {} : { maintenance: g.maintenance }),
        });
      });
    },
  };
}
export type Platform = ReturnType<typeof createPlatform>;
