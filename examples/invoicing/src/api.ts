import { type Actor, parseInput, requireTenant } from '@tenantry/core';
import { HttpTenancyError, requireRoles, tenantryOf } from '@tenantry/express';
import type { ExpressApprovals } from '@tenantry/express/approvals';
import express, { type Request, type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { Auth } from './auth.js';
import type { Documents } from './documents.js';
import type { Platform } from './platform.js';
import type { Services } from './services.js';
import type { TenantSettings } from './tenant-settings.js';

/** The verified actor of a request (platform staff have no tenant context, so read it from the adapter). */
export function actorOf(req: Request): Actor {
  const identity = tenantryOf(req)?.identity;
  if (!identity) throw new HttpTenancyError('HTTP_TOKEN_MISSING', 'A bearer token is required');
  return identity.actor;
}

export const ImpersonationRequestSchema = z.object({
  tenantId: z.string().min(1).max(64),
  userId: z.string().min(1).max(128),
  reason: z.string().max(500),
});

type Handler = (req: Request) => Promise<unknown>;
/** JSON route: the handler's value as the body; errors go to the adapter's problem+json handler. */
const json =
  (fn: Handler, status = 200): RequestHandler =>
  async (req, res, next) => {
    try {
      res.status(status).json(await fn(req));
    } catch (error) {
      next(error);
    }
  };

export interface ApiDeps {
  s: Services;
  auth: Auth;
  docs: Documents;
  settings: TenantSettings;
  platform: Platform;
  approvals: ExpressApprovals;
  signInLockout: RequestHandler;
}

/**
 * The JSON API. Segments (from `@tenantry/express`): `/ops` for every tenant role, `/back-office`
 * for admins and managers (and partner admins), `/sys-mgt` for super admins only.
 */
export function apiRouter(d: ApiDeps): Router {
  const { s, auth, docs, settings, platform, approvals } = d;
  const r = express.Router();

  r.post(
    '/auth/login',
    d.signInLockout,
    json((req) => auth.signIn(req.body)),
  );

  r.get(
    '/ops/me',
    json(async () => requireTenant()),
  );
  r.get(
    '/ops/customers',
    json(() => docs.listCustomers()),
  );
  r.post(
    '/ops/customers',
    json((req) => docs.createCustomer(req.body), 201),
  );
  r.get(
    '/ops/customers/:id',
    json((req) => docs.getCustomer(String(req.params.id))),
  );
  // Deleting a customer needs a second person's approval: 202 + Location of the approval request.
  r.delete(
    '/ops/customers/:id',
    approvals.require({
      action: 'customer.delete',
      resource: (req) => ({ type: 'customer', id: String(req.params.id) }),
    }),
  );
  r.get(
    '/ops/invoices',
    json(() => docs.listDocuments('INVOICE')),
  );
  r.get(
    '/ops/credit-notes',
    json(() => docs.listDocuments('CREDIT_NOTE')),
  );
  r.post(
    '/ops/invoices',
    json((req) => docs.issueInvoice(req.body), 201),
  );
  r.get(
    '/ops/invoices/:id',
    json((req) => docs.getDocument(String(req.params.id))),
  );
  r.post(
    '/ops/invoices/:id/void',
    approvals.require({
      action: 'invoice.void',
      resource: (req) => ({ type: 'invoice', id: String(req.params.id) }),
    }),
  );
  r.post(
    '/ops/invoices/:id/email',
    json((req) =>
      docs.emailDocument(
        String(req.params.id),
        parseInput(z.object({ to: z.email().optional() }), req.body ?? {}, 'email').to,
      ),
    ),
  );
  r.get(
    '/ops/notifications',
    json(() => notificationsOf(s)),
  );
  r.get(
    '/ops/audit',
    requireRoles('TENANT_ADMIN', 'MANAGER'),
    json(() => auditOverview(s)),
  );

  r.get(
    '/back-office/settings',
    json(() => settings.overview()),
  );
  r.get(
    '/back-office/settings/providers',
    json(() => settings.providers()),
  );
  r.put(
    '/back-office/settings/providers/:kind',
    requireRoles('TENANT_ADMIN'),
    json(async (req) => {
      await settings.setProvider({ ...(req.body ?? {}), kind: req.params.kind });
      return settings.providers();
    }),
  );
  r.get(
    '/back-office/approval-policies',
    json(() => s.approvals.getPolicies()),
  );
  r.put(
    '/back-office/approval-policies',
    requireRoles('TENANT_ADMIN'),
    json((req) => s.approvals.setPolicies(req.body)),
  );
  r.get(
    '/back-office/partner/tenants',
    requireRoles('PARTNER_ADMIN'),
    json(async (req) => {
      const me = await auth.findUser(actorOf(req).id);
      return me?.partnerId ? platform.listTenants(actorOf(req), me.partnerId) : [];
    }),
  );

  // Snapshots of the tenant (vault): take, list, restore (under the tenant's maintenance mode), GDPR export.
  const admin = requireRoles('TENANT_ADMIN');
  r.get(
    '/back-office/snapshots',
    admin,
    json(() => s.vault.vault.list()),
  );
  r.post(
    '/back-office/snapshots',
    admin,
    json(() => s.vault.vault.snapshot(), 201),
  );
  r.post(
    '/back-office/snapshots/:id/restore',
    admin,
    json((req) => s.vault.vault.restore({ snapshotId: String(req.params.id) })),
  );
  r.post(
    '/back-office/exports',
    admin,
    json(() => s.vault.vault.exportData({ target: s.vault.exports, decrypt: false })),
  );

  r.get(
    '/sys-mgt/partners',
    json((req) => platform.listPartners(actorOf(req))),
  );
  r.get(
    '/sys-mgt/tenants',
    json((req) => platform.listTenants(actorOf(req))),
  );
  r.post(
    '/sys-mgt/tenants/:id/transition',
    json((req) => platform.transitionTenant(actorOf(req), String(req.params.id), req.body)),
  );
  r.post(
    '/sys-mgt/tenants/:id/subscription',
    json((req) => platform.transitionSubscription(actorOf(req), String(req.params.id), req.body)),
  );
  r.get(
    '/sys-mgt/settings',
    json((req) => platform.globalSettings(actorOf(req))),
  );
  r.put(
    '/sys-mgt/settings',
    json((req) => platform.updateGlobalSettings(actorOf(req), req.body)),
  );
  r.post(
    '/sys-mgt/impersonations',
    json(async (req) => {
      const body = parseInput(ImpersonationRequestSchema, req.body ?? {}, 'impersonation');
      const { token, session } = await auth.impersonate(actorOf(req), body);
      return { token, sessionId: session.id, expiresAt: session.expiresAt };
    }, 201),
  );
  return r;
}

/** The tenant's notifications, newest first (e.g. "support entered your account"). */
export async function notificationsOf(s: Services) {
  const r = await s.uow.query(
    'SELECT id, kind, data, created_at FROM app_notifications WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 50',
    [requireTenant().tenantId],
  );
  return r.rows.map((n) => ({
    id: n.id as string,
    kind: n.kind as string,
    data: n.data as Record<string, unknown>,
    createdAt: n.created_at as Date,
  }));
}

/** The tenant's trail (newest first), whether its hash chain verifies, and a freshly signed checkpoint. */
export async function auditOverview(s: Services) {
  const verified = await s.audit.verify();
  // checkpoint() refuses (AUDIT_CHAIN_BROKEN) to sign a chain that does not verify: show the
  // failure, not a 409.
  const checkpoint = verified.ok ? await s.audit.checkpoint() : null;
  const events = [];
  let cursor: string | undefined;
  do {
    const page = await s.audit.query({ limit: 1000, ...(cursor ? { cursor } : {}) });
    events.push(...page.events);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && events.length < 5000);
  return {
    verified,
    checkpoint,
    publicKey: s.config.audit.publicKey,
    events: events.reverse().slice(0, 500),
  };
}
