/** Minimal server-side HTML: escaped interpolation, one layout, no inline scripts (helmet's CSP). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** Tagged template: values are escaped unless they are `Html` (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    const part = Array.isArray(v)
      ? v.map((x) => (x instanceof Html ? x.value : escapeHtml(x))).join('')
      : v instanceof Html
        ? v.value
        : escapeHtml(v);
    out += part + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

export interface Viewer {
  name: string;
  roles: readonly string[];
  tenantId: string | undefined;
  impersonatedBy: string | undefined;
}

interface NavItem {
  href: string;
  label: string;
  roles: readonly string[];
  tenant: boolean;
}
const TENANT_ROLES = ['TENANT_ADMIN', 'MANAGER', 'OPERATOR', 'USER'];
/** Navigation, filtered by role: platform pages for platform staff, tenant pages for the tenant's people. */
export const NAV: readonly NavItem[] = [
  {
    href: '/console/platform/tenants',
    label: 'Tenants',
    roles: ['SUPER_ADMIN', 'PARTNER_ADMIN'],
    tenant: false,
  },
  {
    href: '/console/platform/partners',
    label: 'Partners',
    roles: ['SUPER_ADMIN', 'PARTNER_ADMIN'],
    tenant: false,
  },
  { href: '/console/platform/settings', label: 'Global settings', roles: ['SUPER_ADMIN'], tenant: false },
  { href: '/console/invoices', label: 'Invoices', roles: TENANT_ROLES, tenant: true },
  { href: '/console/customers', label: 'Customers', roles: TENANT_ROLES, tenant: true },
  { href: '/console/approvals', label: 'Approvals', roles: TENANT_ROLES, tenant: true },
  { href: '/console/audit', label: 'Audit trail', roles: ['TENANT_ADMIN', 'MANAGER'], tenant: true },
  { href: '/console/settings', label: 'Settings', roles: ['TENANT_ADMIN', 'MANAGER'], tenant: true },
  { href: '/console/snapshots', label: 'Snapshots', roles: ['TENANT_ADMIN'], tenant: true },
];

export function navFor(viewer: Viewer, vaultAvailable: boolean): NavItem[] {
  return NAV.filter(
    (n) =>
      n.tenant === (viewer.tenantId !== undefined) &&
      n.roles.some((r) => viewer.roles.includes(r)) &&
      (n.href !== '/console/snapshots' || vaultAvailable),
  );
}

export function layout(
  title: string,
  viewer: Viewer | undefined,
  body: Html,
  opts: { vaultAvailable?: boolean; banner?: string; flash?: string } = {},
): string {
  const nav = viewer ? navFor(viewer, opts.vaultAvailable ?? false) : [];
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Tenantry Invoicing</title><link rel="stylesheet" href="/assets/console.css"></head>
<body>
<header><strong>Tenantry Invoicing</strong>
${
  viewer
    ? html`<nav>${nav.map((n) => html`<a href="${n.href}">${n.label}</a>`)}</nav>
<span class="who">${viewer.name}${viewer.tenantId ? html` · <span data-testid="tenant">${viewer.tenantId}</span>` : ''} · ${viewer.roles.join(', ')}
${viewer.impersonatedBy ? html` · <span class="warn" data-testid="impersonating">support session of ${viewer.impersonatedBy}</span>` : ''}
<form method="post" action="/logout" class="inline"><button>Sign out</button></form></span>`
    : ''
}
</header>
${opts.banner ? html`<p class="banner">${opts.banner}</p>` : ''}
${opts.flash ? html`<p class="flash" data-testid="flash">${opts.flash}</p>` : ''}
<main><h1>${title}</h1>${body}</main>
</body></html>`.value;
}

export const money = (cents: number, currency = 'EUR') => `${(cents / 100).toFixed(2)} ${currency}`;

export const CONSOLE_CSS = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:1.5rem;align-items:center;padding:.7rem 1.2rem;background:#1d2330;color:#fff;flex-wrap:wrap}
header a{color:#cfe0ff;margin-right:1rem;text-decoration:none}header .who{margin-left:auto;font-size:.9em}
main{padding:1.2rem;max-width:1100px}table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e3e6eb;padding:.4rem .5rem;text-align:left;vertical-align:top}
form.inline{display:inline}input,select,button{font:inherit;padding:.25rem .5rem}
.badge{display:inline-block;padding:.2rem .6rem;border-radius:1rem;font-weight:600}
.ok{background:#d6f5df;color:#0b5d1e}.bad{background:#fde0e0;color:#8a1010}.pending{background:#fff1c9;color:#7a5300}
.warn{color:#ffcf5c;font-weight:600}.banner{background:#fff1c9;margin:0;padding:.5rem 1.2rem}
.flash{background:#e6f0ff;margin:0;padding:.5rem 1.2rem}fieldset{background:#fff;border:1px solid #e3e6eb;margin:1rem 0}
code{font-size:.85em;word-break:break-all}.muted{color:#6b7280}
`;
