import { type Actor, runAsSystem, runAsTenant } from '@tenantry/core';
import { DEFAULT_POLICIES } from './documents.js';
import { hashPassword } from './passwords.js';
import type { Services } from './services.js';

/** The demo password of every seeded user (printed at start; change it outside a demo). */
export const DEMO_PASSWORD = 'demo-password';

export interface DemoUser {
  email: string;
  name: string;
  tenantId: string | null;
  partnerId: string | null;
  roles: string[];
}

export const DEMO_PARTNERS = [
  { id: 'iberia', name: 'Iberia Resellers', kind: 'RESELLER' as const },
  { id: 'nordics', name: 'Nordic Operations', kind: 'REGIONAL_OPERATOR' as const },
];
export const DEMO_TENANTS = [
  { id: 'acme', name: 'Acme Tools', partnerId: 'iberia', plan: 'pro' },
  { id: 'globex', name: 'Globex Retail', partnerId: 'iberia', plan: 'starter' },
  { id: 'initech', name: 'Initech Services', partnerId: 'nordics', plan: 'starter' },
];
export const DEMO_USERS: DemoUser[] = [
  {
    email: 'root@platform.test',
    name: 'Platform Admin',
    tenantId: null,
    partnerId: null,
    roles: ['SUPER_ADMIN'],
  },
  {
    email: 'pat@iberia.test',
    name: 'Pat (partner admin)',
    tenantId: null,
    partnerId: 'iberia',
    roles: ['PARTNER_ADMIN'],
  },
  ...DEMO_TENANTS.flatMap((t) => [
    {
      email: `admin@${t.id}.test`,
      name: `${t.name} admin`,
      tenantId: t.id,
      partnerId: null,
      roles: ['TENANT_ADMIN'],
    },
    {
      email: `manager@${t.id}.test`,
      name: `${t.name} manager`,
      tenantId: t.id,
      partnerId: null,
      roles: ['MANAGER'],
    },
    {
      email: `clerk@${t.id}.test`,
      name: `${t.name} clerk`,
      tenantId: t.id,
      partnerId: null,
      roles: ['OPERATOR'],
    },
  ]),
];

const SEEDER: Actor = { id: 'seed', roles: ['SUPER_ADMIN'], kind: 'service' };

/** Seed partners, plans, tenants with subscriptions, users, customers and approval policies, once. */
export async function seedDemo(s: Services): Promise<boolean> {
  const existing = await s.pool.query('SELECT count(*)::int AS n FROM app_users');
  if (existing.rows[0].n > 0) return false;
  const hash = await hashPassword(DEMO_PASSWORD);
  await runAsSystem({ actor: SEEDER, reason: 'demo seed' }, s.audit.port, async () => {
    for (const p of DEMO_PARTNERS) await s.directory.createPartner(p);
    await s.directory.putPlan({
      id: 'starter',
      name: 'Starter',
      quotas: { emails: { limit: 5, window: 'day' } },
      features: {},
    });
    await s.directory.putPlan({
      id: 'pro',
      name: 'Pro',
      quotas: { emails: { limit: 1000, window: 'day' } },
      features: { 'feature.csv-export': true },
    });
    for (const t of DEMO_TENANTS) {
      await s.directory.createTenant({ id: t.id, name: t.name, partnerId: t.partnerId });
      await s.directory.activateTenant(t.id);
      const sub = await s.directory.startSubscription({ tenantId: t.id, planId: t.plan });
      await s.directory.transitionSubscription(sub.id, 'ACTIVE');
    }
  });
  let i = 0;
  for (const u of DEMO_USERS) {
    i += 1;
    await s.pool.query(
      'INSERT INTO app_users (id, email, name, tenant_id, partner_id, roles, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [
        `u${String(i).padStart(2, '0')}-${u.email.split('@')[0]}-${u.tenantId ?? u.partnerId ?? 'platform'}`,
        u.email,
        u.name,
        u.tenantId,
        u.partnerId,
        u.roles,
        hash,
      ],
    );
  }
  for (const t of DEMO_TENANTS) {
    await runAsTenant(
      { tenantId: t.id, actor: { id: `seed-${t.id}`, roles: ['TENANT_ADMIN'], kind: 'service' } },
      async () => {
        await s.approvals.setPolicies({ policies: DEFAULT_POLICIES });
        for (const name of ['Wayne Enterprises', 'Stark Industries', 'Tyrell Corp']) {
          await s.uow.query(
            'INSERT INTO app_customers (tenant_id, id, name, email) VALUES ($1, $2, $3, $4)',
            [
              t.id,
              `${t.id}-${name.split(' ')[0]!.toLowerCase()}`,
              name,
              `billing@${name.split(' ')[0]!.toLowerCase()}.example`,
            ],
          );
        }
      },
    );
  }
  return true;
}
