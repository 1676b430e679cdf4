import { isTenantryError, parseInput, requireTenant } from '@tenantry/core';
import { requireRoles, tenantryOf } from '@tenantry/express';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { actorOf, auditOverview, notificationsOf } from '../api.js';
import type { Auth } from '../auth.js';
import { BRANCHES, type Documents } from '../documents.js';
import type { Platform } from '../platform.js';
import type { Services } from '../services.js';
import { PROVIDERS, type TenantSettings } from '../tenant-settings.js';
import { type Html, type Viewer, html, layout, money } from './html.js';

export const SESSION_COOKIE = 'tenantry_session';

export interface ConsoleDeps {
  s: Services;
  auth: Auth;
  docs: Documents;
  settings: TenantSettings;
  platform: Platform;
  signInLockout: RequestHandler;
}

const forms = express.urlencoded({ extended: false, limit: '20kb' });

/** Console POSTs come from our own pages only: the cookie is SameSite=Strict and the origin is checked. */
const sameOrigin: RequestHandler = (req, res, next) => {
  const refuse = () => void res.status(403).type('text/plain').send('cross-site form refused');
  // Browsers say where a request comes from in Sec-Fetch-Site; with helmet's no-referrer policy their
  // Origin header on form posts is "null", so Origin is only compared when it names one.
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? next() : refuse();
  const origin = req.get('origin');
  if (origin && origin !== 'null') {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      return refuse();
    }
    if (host !== req.get('host')) return refuse();
  }
  next();
};

const back = (res: Response, path: string, flash: string) =>
  res.redirect(303, `${path}?flash=${encodeURIComponent(flash)}`);
const flashOf = (req: Request) =>
  typeof req.query.flash === 'string' ? req.query.flash.slice(0, 300) : undefined;

export function consoleRouter(d: ConsoleDeps): Router {
  const { s, auth, docs, settings, platform } = d;
  const r = express.Router();

  async function viewerOf(req: Request): Promise<Viewer> {
    const identity = tenantryOf(req)?.identity;
    if (!identity) throw new Error('no identity');
    const user = await auth.findUser(identity.actor.id);
    return {
      name: user?.name ?? identity.actor.id,
      roles: identity.actor.roles,
      tenantId: identity.tenantId,
      impersonatedBy: identity.impersonator?.id,
    };
  }

  /** A page: HTML on success; a tenantry error becomes an error page with its code, or a sign-in redirect. */
  const page =
    (title: string, fn: (req: Request, viewer: Viewer) => Promise<Html>): RequestHandler =>
    async (req, res, next) => {
      try {
        const viewer = await viewerOf(req);
        const body = await fn(req, viewer);
        let banner = '';
        if (viewer.tenantId) banner = (await settings.overview()).banner;
        res
          .type('html')
          .send(
            layout(title, viewer, body, { vaultAvailable: s.vault.available, banner, flash: flashOf(req) }),
          );
      } catch (error) {
        next(error);
      }
    };
  /** A form action: runs, then redirects back with a message (or the error's code). */
  const action = (
    path: (req: Request) => string,
    fn: (req: Request) => Promise<string>,
  ): RequestHandler[] => [
    sameOrigin,
    forms,
    async (req, res, next) => {
      try {
        back(res, path(req), await fn(req));
      } catch (error) {
        if (isTenantryError(error) && error.status < 500 && !String(error.code).startsWith('HTTP_TOKEN')) {
          back(res, path(req), `Refused: ${error.code}`);
          return;
        }
        next(error);
      }
    },
  ];

  // --- sign-in -----------------------------------------------------------------------------------
  const loginForm = (message?: string) =>
    layout(
      'Sign in',
      undefined,
      html`${message ? html`<p class="badge bad" data-testid="login-error">${message}</p>` : ''}
<form method="post" action="/login"><fieldset>
<p><label>Email <input name="email" type="email" required autocomplete="username"></label></p>
<p><label>Password <input name="password" type="password" required autocomplete="current-password"></label></p>
<p><button type="submit">Sign in</button></p></fieldset></form>
<p class="muted">Demo logins are printed by <code>npm start</code>.</p>`,
    );
  r.get('/login', (_req, res) => {
    res.type('html').send(loginForm());
  });
  r.post('/login', sameOrigin, forms, d.signInLockout, async (req, res, next) => {
    try {
      const { token } = await auth.signIn(req.body);
      res.cookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: req.secure,
        path: '/',
      });
      res.redirect(303, '/console');
    } catch (error) {
      if (isTenantryError(error) && error.status < 500) {
        const msg =
          error.code === 'INVOICING_BAD_CREDENTIALS'
            ? 'Wrong email or password'
            : `Sign-in refused: ${error.code}`;
        res.status(error.status).type('html').send(loginForm(msg));
        return;
      }
      next(error);
    }
  });
  r.post('/logout', sameOrigin, (_req, res) => {
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, '/login');
  });

  r.get('/console', async (req, res, next) => {
    try {
      const v = await viewerOf(req);
      res.redirect(303, v.tenantId ? '/console/invoices' : '/console/platform/tenants');
    } catch (e) {
      next(e);
    }
  });

  // --- tenant pages ------------------------------------------------------------------------------
  const tenantOnly: RequestHandler = (_req, _res, next) => {
    requireTenant(); // TENANT_CONTEXT_MISSING for platform staff
    next();
  };
  const notices = async () => {
    const list = await notificationsOf(s);
    return list.length === 0
      ? html``
      : html`<section data-testid="notifications"><h2>Notifications</h2><ul>${list.map(
          (n) =>
            html`<li>${n.kind === 'impersonation.started' ? 'Support entered your account' : n.kind}: ${String(n.data.reason ?? '')}
<span class="muted">(${String(n.data.supportId ?? '')}, ${new Date(n.createdAt).toISOString()})</span></li>`,
        )}</ul></section>`;
  };

  r.get(
    '/console/invoices',
    tenantOnly,
    page('Invoices', async () => {
      const [invoices, credits, customers] = await Promise.all([
        docs.listDocuments('INVOICE'),
        docs.listDocuments('CREDIT_NOTE'),
        docs.listCustomers(),
      ]);
      return html`${await notices()}
<form method="post" action="/console/invoices"><fieldset><legend>Issue an invoice</legend>
<select name="customerId" required>${customers
        .filter((c) => c.status === 'ACTIVE')
        .map((c) => html`<option value="${c.id}">${c.name}</option>`)}</select>
<input name="amountCents" type="number" min="1" placeholder="amount in cents" required>
<select name="branch">${BRANCHES.map((b) => html`<option>${b}</option>`)}</select>
<button type="submit">Issue</button></fieldset></form>
<table data-testid="invoices"><tr><th>Number</th><th>Date</th><th>Customer</th><th>Amount</th><th>Status</th><th></th></tr>
${invoices.map(
  (
    i,
  ) => html`<tr data-code="${i.code}"><td>${i.code}</td><td>${i.issueDate}</td><td>${i.customerId}</td><td>${money(i.amountCents)}</td>
<td><span class="badge ${i.status === 'ISSUED' ? 'ok' : i.status === 'PENDING_VOID' ? 'pending' : 'bad'}">${i.status === 'PENDING_VOID' ? 'void pending approval' : i.status}</span></td>
<td>${
    i.status === 'ISSUED'
      ? html`<form method="post" action="/console/invoices/${i.id}/void" class="inline"><input name="justification" placeholder="reason" required minlength="3"><button>Request void</button></form>
<form method="post" action="/console/invoices/${i.id}/email" class="inline"><button>Email</button></form>`
      : i.voidReason
        ? html`<span class="muted">${i.voidReason}</span>`
        : ''
  }</td></tr>`,
)}</table>
<h2>Credit notes</h2><table data-testid="credit-notes"><tr><th>Number</th><th>Credits</th><th>Amount</th></tr>
${credits.map((c) => html`<tr><td>${c.code}</td><td>${invoices.find((i) => i.id === c.creditsDocumentId)?.code ?? ''}</td><td>${money(c.amountCents)}</td></tr>`)}</table>`;
    }),
  );
  r.post(
    '/console/invoices',
    tenantOnly,
    ...action(
      () => '/console/invoices',
      async (req) => `Issued ${(await docs.issueInvoice(req.body)).code}`,
    ),
  );
  r.post(
    '/console/invoices/:id/void',
    tenantOnly,
    ...action(
      () => '/console/invoices',
      async (req) => {
        const justification = parseInput(
          z.object({ justification: z.string().trim().min(3).max(500) }),
          req.body,
          'void',
        ).justification;
        const v = await s.approvals.request({
          action: 'invoice.void',
          resource: { type: 'invoice', id: String(req.params.id) },
          justification,
        });
        return v.status === 'PENDING'
          ? 'Void requested: waiting for a second person to approve'
          : `Void ${v.status}`;
      },
    ),
  );
  r.post(
    '/console/invoices/:id/email',
    tenantOnly,
    ...action(
      () => '/console/invoices',
      async (req) => {
        const q = await docs.emailDocument(String(req.params.id), undefined);
        return `Email queued (${q.emailsUsedToday} of ${q.limit ?? '∞'} today)`;
      },
    ),
  );

  r.get(
    '/console/customers',
    tenantOnly,
    page('Customers', async () => {
      const customers = await docs.listCustomers();
      return html`<form method="post" action="/console/customers"><fieldset><legend>New customer</legend>
<input name="name" placeholder="name" required><input name="email" type="email" placeholder="billing email"><button>Add</button></fieldset></form>
<table data-testid="customers"><tr><th>Name</th><th>Email</th><th>Status</th><th></th></tr>
${customers.map(
  (
    c,
  ) => html`<tr><td>${c.name}</td><td>${c.email ?? ''}</td><td><span class="badge ${c.status === 'ACTIVE' ? 'ok' : 'pending'}">${c.status === 'PENDING_DELETION' ? 'deletion pending approval' : c.status}</span></td>
<td>${c.status === 'ACTIVE' ? html`<form method="post" action="/console/customers/${c.id}/delete" class="inline"><input name="justification" placeholder="reason" required minlength="3"><button>Request deletion</button></form>` : ''}</td></tr>`,
)}</table>`;
    }),
  );
  r.post(
    '/console/customers',
    tenantOnly,
    ...action(
      () => '/console/customers',
      async (req) => {
        const body = { ...(req.body as Record<string, unknown>) };
        if (body.email === '') delete body.email;
        return `Added ${(await docs.createCustomer(body)).name}`;
      },
    ),
  );
  r.post(
    '/console/customers/:id/delete',
    tenantOnly,
    ...action(
      () => '/console/customers',
      async (req) => {
        const justification = parseInput(
          z.object({ justification: z.string().trim().min(3).max(500) }),
          req.body,
          'delete',
        ).justification;
        const v = await s.approvals.request({
          action: 'customer.delete',
          resource: { type: 'customer', id: String(req.params.id) },
          justification,
        });
        return v.status === 'PENDING'
          ? 'Deletion requested: waiting for a second person to approve'
          : `Deletion ${v.status}`;
      },
    ),
  );

  r.get(
    '/console/approvals',
    tenantOnly,
    page('Approvals', async () => {
      const [inbox, history] = await Promise.all([s.approvals.inbox(), s.approvals.list({ limit: 30 })]);
      return html`<h2>Waiting for you</h2>
<table data-testid="inbox"><tr><th>Action</th><th>Resource</th><th>Asked by</th><th>Why</th><th></th></tr>
${inbox.items.map(
  (
    a,
  ) => html`<tr data-request="${a.id}"><td>${a.action}</td><td>${a.resource.type} ${a.resource.id}</td><td>${a.makerId}</td><td>${a.justification ?? ''}</td>
<td><form method="post" action="/console/approvals/${a.id}/approve" class="inline"><button>Approve</button></form>
<form method="post" action="/console/approvals/${a.id}/reject" class="inline"><button>Reject</button></form></td></tr>`,
)}</table>
<h2>Recent requests</h2><table data-testid="approval-history"><tr><th>Action</th><th>Resource</th><th>Asked by</th><th>Status</th></tr>
${history.items.map((a) => html`<tr><td>${a.action}</td><td>${a.resource.id}</td><td>${a.makerId}</td><td>${a.status}</td></tr>`)}</table>`;
    }),
  );
  for (const decision of ['approve', 'reject'] as const) {
    r.post(
      `/console/approvals/:id/${decision}`,
      tenantOnly,
      ...action(
        () => '/console/approvals',
        async (req) => {
          const v = await s.approvals[decision]({ requestId: String(req.params.id) });
          return `Request ${v.status.toLowerCase()}`;
        },
      ),
    );
  }

  r.get(
    '/console/audit',
    tenantOnly,
    requireRoles('TENANT_ADMIN', 'MANAGER'),
    page('Audit trail', async () => {
      const a = await auditOverview(s);
      const badge = a.verified.ok
        ? html`<span class="badge ok" data-testid="audit-badge">Chain verified · ${a.verified.checked} events</span>`
        : html`<span class="badge bad" data-testid="audit-badge">Chain broken at event ${a.verified.firstBadSeq} (${a.verified.kind})</span>`;
      return html`<p>${badge}</p>
${a.checkpoint ? html`<p>Signed checkpoint: event ${a.checkpoint.seq}, hash <code>${a.checkpoint.hash}</code>, key ${a.checkpoint.keyId}, signature <code data-testid="checkpoint-signature">${a.checkpoint.signature}</code></p>` : ''}
<table data-testid="audit-events"><tr><th>#</th><th>When</th><th>Who</th><th>Action</th><th>Targets</th><th>Outcome</th></tr>
${a.events.map(
  (e) => html`<tr><td>${e.seq}</td><td>${new Date(e.occurredAt).toISOString()}</td>
<td>${e.actor.id}${e.impersonator ? html` <span class="badge pending">via support ${e.impersonator.id}</span>` : ''}</td>
<td>${e.action}</td><td>${e.targets.map((t) => `${t.type}:${t.id ?? ''}`).join(', ')}</td><td>${e.outcome}</td></tr>`,
)}</table>`;
    }),
  );

  r.get(
    '/console/settings',
    tenantOnly,
    requireRoles('TENANT_ADMIN', 'MANAGER'),
    page('Settings', async (_req, viewer) => {
      const [o, providers, policies] = await Promise.all([
        settings.overview(),
        settings.providers(),
        s.approvals.getPolicies(),
      ]);
      const admin = viewer.roles.includes('TENANT_ADMIN');
      return html`<p>Plan <strong>${o.plan?.name ?? 'none'}</strong>, subscription ${o.subscription?.status ?? 'none'}.
Emails today: <strong data-testid="emails-used">${o.emailsUsedToday}</strong> of ${o.emailsPerDay ?? 'unlimited'}.
Maintenance: global ${o.maintenance.global ? 'ON' : 'off'}, tenant ${o.maintenance.tenant ? 'ON' : 'off'}.
Flags: email invoices ${o.flags.emailInvoices ? 'on' : 'off'}, CSV export ${o.flags.csvExport ? 'on' : 'off'}.</p>
<h2>Messaging providers</h2><p class="muted">Credentials are sealed with crypto-fields (bound to this tenant and field) and never shown again.</p>
<table data-testid="providers"><tr><th>Channel</th><th>Provider</th><th>Credential</th>${admin ? html`<th>Replace</th>` : ''}</tr>
${providers.map(
  (
    p,
  ) => html`<tr><td>${PROVIDERS[p.kind].label}</td><td>${p.provider}</td><td>${p.configured ? html`sealed · fingerprint <code>${p.fingerprint}</code>` : 'not set'}</td>
${admin ? html`<td><form method="post" action="/console/settings/providers/${p.kind}" class="inline"><input name="provider" placeholder="provider" required><input name="secret" type="password" placeholder="${PROVIDERS[p.kind].secret}" required><button>Save</button></form></td>` : ''}</tr>`,
)}</table>
<h2>Approval policies</h2><table data-testid="policies"><tr><th>Action</th><th>Approvals</th><th>Approver roles</th></tr>
${policies.policies.map((p) => html`<tr><td>${p.action}</td><td>${p.approvalsRequired}</td><td>${p.approverRoles.join(', ')}</td></tr>`)}</table>
${
  admin
    ? html`<form method="post" action="/console/settings/policies"><fieldset><legend>Edit (tenant admin)</legend>
${['invoice.void', 'customer.delete'].map((action) => {
  const cur = policies.policies.find((p) => p.action === action);
  return html`<p><label>${action}: approvals needed <input name="${action}" type="number" min="0" max="5" value="${cur?.approvalsRequired ?? 0}"></label> <span class="muted">(0 = no approval)</span></p>`;
})}<button>Save policies</button></fieldset></form>`
    : ''
}`;
    }),
  );
  r.post(
    '/console/settings/providers/:kind',
    tenantOnly,
    requireRoles('TENANT_ADMIN'),
    ...action(
      () => '/console/settings',
      async (req) => {
        await settings.setProvider({ ...(req.body as object), kind: req.params.kind });
        return 'Credential sealed and saved';
      },
    ),
  );
  r.post(
    '/console/settings/policies',
    tenantOnly,
    requireRoles('TENANT_ADMIN'),
    ...action(
      () => '/console/settings',
      async (req) => {
        const body = parseInput(
          z.object({
            'invoice.void': z.coerce.number().int().min(0).max(5),
            'customer.delete': z.coerce.number().int().min(0).max(5),
          }),
          req.body,
          'policies',
        );
        const policies = Object.entries(body)
          .filter(([, n]) => n > 0)
          .map(([action, n]) => ({
            action,
            approvalsRequired: n,
            approverRoles: ['TENANT_ADMIN', 'MANAGER'],
          }));
        await s.approvals.setPolicies({ policies });
        return 'Policies saved';
      },
    ),
  );

  r.get(
    '/console/snapshots',
    tenantOnly,
    requireRoles('TENANT_ADMIN'),
    page('Snapshots', async () => {
      const list = await s.vault.vault.list();
      return html`<form method="post" action="/console/snapshots"><button>Take a snapshot</button></form>
<form method="post" action="/console/snapshots/export"><button>GDPR export</button></form>
<table data-testid="snapshots"><tr><th>Taken</th><th>Kind</th><th>Size</th><th></th></tr>
${list.map(
  (x) => html`<tr><td>${new Date(x.createdAt).toISOString()}</td><td>${x.kind}</td><td>${x.size} bytes</td>
<td><form method="post" action="/console/snapshots/${x.id}/restore" class="inline"><button>Restore</button></form></td></tr>`,
)}</table><p class="muted">A restore puts the tenant in maintenance mode, checks the whole snapshot before deleting anything, and touches no other tenant.</p>`;
    }),
  );
  r.post(
    '/console/snapshots',
    tenantOnly,
    requireRoles('TENANT_ADMIN'),
    ...action(
      () => '/console/snapshots',
      async () => `Snapshot ${(await s.vault.vault.snapshot()).snapshotId} taken`,
    ),
  );
  r.post(
    '/console/snapshots/export',
    tenantOnly,
    requireRoles('TENANT_ADMIN'),
    ...action(
      () => '/console/snapshots',
      async () => {
        const e = await s.vault.vault.exportData({ target: s.vault.exports, decrypt: false });
        return `Export ${e.exportId}: ${e.modules.map((m) => `${m.name} ${m.records}`).join(', ')}`;
      },
    ),
  );
  r.post(
    '/console/snapshots/:id/restore',
    tenantOnly,
    requireRoles('TENANT_ADMIN'),
    ...action(
      () => '/console/snapshots',
      async (req) => {
        const rep = await s.vault.vault.restore({ snapshotId: String(req.params.id) });
        return `Restored (${rep.mode}): ${rep.modules.map((m) => `${m.name} ${m.records}`).join(', ')}`;
      },
    ),
  );

  // --- platform pages ----------------------------------------------------------------------------
  const staff = requireRoles('SUPER_ADMIN', 'PARTNER_ADMIN');
  r.get(
    '/console/platform/tenants',
    staff,
    page('Tenants', async (req, viewer) => {
      const me = await auth.findUser(actorOf(req).id);
      const superAdmin = viewer.roles.includes('SUPER_ADMIN');
      const rows = await platform.listTenants(
        actorOf(req),
        superAdmin ? undefined : (me?.partnerId ?? '-none-'),
      );
      const users = superAdmin ? await Promise.all(rows.map((t) => auth.usersOf(t.tenant.id))) : [];
      return html`<table data-testid="tenants"><tr><th>Tenant</th><th>Partner</th><th>Status</th><th>Plan</th><th>Subscription</th>${superAdmin ? html`<th>Actions</th>` : ''}</tr>
${rows.map(
  (
    t,
    i,
  ) => html`<tr data-tenant="${t.tenant.id}"><td>${t.tenant.name} <span class="muted">${t.tenant.id}</span></td><td>${t.tenant.partnerId ?? ''}</td>
<td><span class="badge ${t.tenant.status === 'ACTIVE' ? 'ok' : 'bad'}">${t.tenant.status}</span></td><td>${t.plan?.name ?? ''}</td><td>${t.subscription?.status ?? ''}</td>
${
  superAdmin
    ? html`<td>
<form method="post" action="/console/platform/tenants/${t.tenant.id}/transition" class="inline">
<select name="to">${['ACTIVE', 'SUSPENDED', 'ARCHIVED'].map((st) => html`<option>${st}</option>`)}</select><input name="reason" placeholder="reason" required minlength="3"><button>Set status</button></form>
<form method="post" action="/console/platform/tenants/${t.tenant.id}/subscription" class="inline">
<select name="to">${['ACTIVE', 'PAST_DUE', 'CANCELED'].map((st) => html`<option>${st}</option>`)}</select><button>Set subscription</button></form>
<form method="post" action="/console/platform/impersonate" class="inline"><input type="hidden" name="tenantId" value="${t.tenant.id}">
<select name="userId">${(users[i] ?? []).map((u) => html`<option value="${u.id}">${u.email}</option>`)}</select>
<input name="reason" placeholder="ticket and reason (10+ chars)" required minlength="10"><button>Enter as user</button></form></td>`
    : ''
}</tr>`,
)}</table>`;
    }),
  );
  r.post(
    '/console/platform/tenants/:id/transition',
    requireRoles('SUPER_ADMIN'),
    ...action(
      () => '/console/platform/tenants',
      async (req) =>
        `Tenant ${(await platform.transitionTenant(actorOf(req), String(req.params.id), req.body)).status}`,
    ),
  );
  r.post(
    '/console/platform/tenants/:id/subscription',
    requireRoles('SUPER_ADMIN'),
    ...action(
      () => '/console/platform/tenants',
      async (req) =>
        `Subscription ${(await platform.transitionSubscription(actorOf(req), String(req.params.id), req.body)).status}`,
    ),
  );
  r.post(
    '/console/platform/impersonate',
    requireRoles('SUPER_ADMIN'),
    sameOrigin,
    forms,
    async (req, res, next) => {
      try {
        const { token } = await auth.impersonate(actorOf(req), req.body);
        res.cookie(SESSION_COOKIE, token, {
          httpOnly: true,
          sameSite: 'strict',
          secure: req.secure,
          path: '/',
        });
        res.redirect(303, '/console/invoices');
      } catch (error) {
        if (isTenantryError(error) && error.status < 500) {
          back(res, '/console/platform/tenants', `Refused: ${error.code}`);
          return;
        }
        next(error);
      }
    },
  );
  r.get(
    '/console/platform/partners',
    staff,
    page('Partners', async (req) => {
      const partners = await platform.listPartners(actorOf(req));
      return html`<table data-testid="partners"><tr><th>Partner</th><th>Kind</th></tr>${partners.map(
        (p) => html`<tr><td>${p.name} <span class="muted">${p.id}</span></td><td>${p.kind}</td></tr>`,
      )}</table>`;
    }),
  );
  r.get(
    '/console/platform/settings',
    requireRoles('SUPER_ADMIN'),
    page('Global settings', async (req) => {
      const g = await platform.globalSettings(actorOf(req));
      const flag = (k: string) => g.values[k] === true;
      return html`<form method="post" action="/console/platform/settings"><fieldset>
<p><label><input type="checkbox" name="maintenance" value="on" ${g.maintenance ? 'checked' : ''}> Maintenance mode (writes refused for everyone but super admins)</label></p>
<p><label><input type="checkbox" name="feature.email-invoices" value="on" ${flag('feature.email-invoices') || g.values['feature.email-invoices'] === undefined ? 'checked' : ''}> Feature: email invoices</label></p>
<p><label><input type="checkbox" name="feature.csv-export" value="on" ${flag('feature.csv-export') ? 'checked' : ''}> Feature: CSV export (plans may turn it on)</label></p>
<p><label>Banner <input name="console.banner" value="${String(g.values['console.banner'] ?? '')}" maxlength="200"></label></p>
<button>Save</button></fieldset></form>`;
    }),
  );
  r.post(
    '/console/platform/settings',
    requireRoles('SUPER_ADMIN'),
    ...action(
      () => '/console/platform/settings',
      async (req) => {
        const b = req.body as Record<string, string | undefined>;
        await platform.updateGlobalSettings(actorOf(req), {
          maintenance: b.maintenance === 'on',
          flags: {
            'feature.email-invoices': b['feature.email-invoices'] === 'on',
            'feature.csv-export': b['feature.csv-export'] === 'on',
            'console.banner': b['console.banner'] ?? '',
          },
        });
        return 'Global settings saved';
      },
    ),
  );
  return r;
}
