import { createHash } from 'node:crypto';
import { parseInput, requireTenant, resolveTenantSettings } from '@tenantry/core';
import { z } from 'zod';
import { type Services, settingsRegistry } from './services.js';

/** Messaging providers a tenant configures; the secret of each is sealed with crypto-fields. */
export const PROVIDERS = {
  email: { label: 'Email', secret: 'apiKey' },
  sms: { label: 'SMS', secret: 'authToken' },
  whatsapp: { label: 'WhatsApp', secret: 'accessToken' },
  push: { label: 'Push', secret: 'serverKey' },
} as const;
export type ProviderKind = keyof typeof PROVIDERS;

export const ProviderInputSchema = z.object({
  kind: z.enum(Object.keys(PROVIDERS) as [ProviderKind, ...ProviderKind[]]),
  provider: z.string().trim().min(1).max(64),
  /** The credential; sealed before it is stored, never returned. */
  secret: z.string().min(1).max(4096),
});

/** What the console shows of a provider: never the secret, only a fingerprint to compare. */
export interface ProviderView {
  kind: ProviderKind;
  provider: string;
  configured: boolean;
  fingerprint: string | null;
}

interface StoredProvider {
  provider: string;
  sealed: string;
}

const sealedAt = (kind: ProviderKind) => ({
  collection: 'app_tenant_settings',
  field: `${kind}.${PROVIDERS[kind].secret}`,
});

export function createTenantSettings(s: Services) {
  async function load(tenantId: string): Promise<Record<string, StoredProvider>> {
    const r = await s.uow.query('SELECT providers FROM app_tenant_settings WHERE tenant_id = $1', [tenantId]);
    return (r.rows[0]?.providers as Record<string, StoredProvider> | undefined) ?? {};
  }
  return {
    async providers(): Promise<ProviderView[]> {
      const stored = await load(requireTenant().tenantId);
      const out: ProviderView[] = [];
      for (const kind of Object.keys(PROVIDERS) as ProviderKind[]) {
        const p = stored[kind];
        if (!p) {
          out.push({ kind, provider: '', configured: false, fingerprint: null });
          continue;
        }
        // Opened only to fingerprint it: proves the stored ciphertext still opens for this tenant.
        const plain = await s.fields.open(p.sealed, sealedAt(kind));
        out.push({
          kind,
          provider: p.provider,
          configured: true,
          fingerprint: createHash('sha256').update(plain).digest('hex').slice(0, 12),
        });
      }
      return out;
    },
    /** Seal and store one provider's credential (tenant admins only, checked by the route). */
    async setProvider(input: unknown): Promise<void> {
      const p = parseInput(ProviderInputSchema, input, 'provider settings');
      const { tenantId, actor } = requireTenant();
      const sealed = await s.fields.seal(p.secret, sealedAt(p.kind)); // bound to tenant, table and field
      await s.uow.query(
        `INSERT INTO app_tenant_settings (tenant_id, providers, updated_by) VALUES ($1, jsonb_build_object($2::text, $3::jsonb), $4)
         ON CONFLICT (tenant_id) DO UPDATE SET providers = app_tenant_settings.providers || jsonb_build_object($2::text, $3::jsonb),
           updated_by = $4, updated_at = now()`,
        [tenantId, p.kind, JSON.stringify({ provider: p.provider, sealed }), actor.id],
      );
      await s.audit.recordInContext({
        action: 'settings.provider.changed',
        targets: [{ type: 'provider', id: p.kind }],
        outcome: 'success',
        metadata: { provider: p.provider },
      });
    },
    /** Resolved settings and flags (default → platform → plan → tenant), and today's email usage. */
    async overview() {
      const config = await s.configSource.get();
      const resolved = config ? resolveTenantSettings(settingsRegistry, config) : undefined;
      const usage = await s.quotas.usage('emails').catch(() => undefined);
      return {
        tenant: config?.tenant,
        plan: config?.plan ?? null,
        subscription: config?.subscription ?? null,
        maintenance: {
          global: config?.platform.maintenance ?? false,
          tenant: config?.tenant.maintenance ?? false,
        },
        flags: {
          emailInvoices: resolved?.get('feature.email-invoices') ?? false,
          csvExport: resolved?.get('feature.csv-export') ?? false,
        },
        banner: resolved?.get('console.banner') ?? '',
        emailsUsedToday: usage?.used ?? 0,
        emailsPerDay: usage?.limit ?? null,
      };
    },
  };
}
export type TenantSettings = ReturnType<typeof createTenantSettings>;
