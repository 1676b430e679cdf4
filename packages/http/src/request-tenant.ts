import {
  TenantIdSchema,
  TenantryError,
  currentTenantContext,
  isTenantryError,
  resolveTenantId,
  runAsTenant,
} from '@tenantry/core';
import { z } from 'zod';
import { invalid, isObject } from './validation.js';

/**
 * Where a client may *name* a tenant in a request. A named tenant is never trusted: it is compared
 * with the tenant of the verified token, and a disagreement is refused (`TENANT_CONTEXT_CONFLICT`).
 */
export const TenantHintsSchema = z.object({
  /** Header naming the tenant. @default 'x-tenant-id' */
  header: z.string().min(1).default('x-tenant-id'),
  /** Query parameter naming the tenant, if any. */
  query: z.string().min(1).optional(),
  /** Route parameter naming the tenant (e.g. `tenantId` in `/t/:tenantId/...`), checked by the adapter's guard. */
  param: z.string().min(1).optional(),
  /** The base domain under which the first label names the tenant (`acme.app.example.com` → `acme`). */
  subdomainOf: z.string().min(1).optional(),
});
/** Input of the `tenantHints` option. */
export type TenantHints = z.input<typeof TenantHintsSchema>;

/** The parts of a request the tenant rules read; each adapter builds one from its framework's request. */
export interface RequestView {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** A header value (lower-case name). */
  header(name: string): string | undefined;
  /** A query parameter value. */
  query(name: string): string | undefined;
  /** The Host header without port. */
  readonly hostname: string | undefined;
  readonly ip: string | undefined;
}

/** A tenant named by the client, and where. */
export interface NamedTenant {
  readonly source: 'header' | 'query' | 'param' | 'subdomain';
  readonly tenantId: string;
}

const NAMED_LABEL: Readonly<Record<NamedTenant['source'], string>> = {
  header: 'tenant header',
  query: 'tenant query parameter',
  param: 'tenant path parameter',
  subdomain: 'subdomain',
};

/** The tenants a request names through the configured hints (the path parameter is the adapter's). */
export function namedTenants(req: RequestView, hints: z.output<typeof TenantHintsSchema>): NamedTenant[] {
  if (
    typeof (req as Partial<RequestView> | null)?.header !== 'function' ||
    typeof (req as Partial<RequestView> | null)?.query !== 'function'
  ) {
    invalid('request view', ['header'], 'must have header() and query() functions');
  }
  if (!isObject(hints) || typeof hints.header !== 'string') {
    invalid('tenant hints', ['header'], 'must be a string');
  }
  for (const key of ['query', 'subdomainOf'] as const) {
    if (hints[key] !== undefined && typeof hints[key] !== 'string')
      invalid('tenant hints', [key], 'must be a string');
  }
  const named: NamedTenant[] = [];
  const h = req.header(hints.header);
  if (typeof h === 'string' && h !== '') named.push({ source: 'header', tenantId: h });
  if (hints.query) {
    const q = req.query(hints.query);
    if (typeof q === 'string' && q !== '') named.push({ source: 'query', tenantId: q });
  }
  if (hints.subdomainOf && typeof req.hostname === 'string' && req.hostname) {
    const sub = subdomainTenant(req.hostname, hints.subdomainOf);
    if (sub !== undefined) named.push({ source: 'subdomain', tenantId: sub });
  }
  return named;
}

const MAX_HOSTNAME = 253;
const NAMED_SOURCES: ReadonlySet<unknown> = new Set(['header', 'query', 'param', 'subdomain']);

/** The first label of `hostname` below `base`, if `hostname` is exactly one level under it. */
export function subdomainTenant(hostname: string, base: string): string | undefined {
  if (typeof hostname !== 'string') invalid('hostname', [], 'must be a string');
  if (typeof base !== 'string') invalid('subdomain base', [], 'must be a string');
  // A DNS name has at most 253 characters: a longer one names no tenant, and is not walked.
  if (hostname.length > MAX_HOSTNAME || base.length > MAX_HOSTNAME) return undefined;
  const host = hostname.toLowerCase();
  const suffix = `.${base.toLowerCase().replace(/^\./, '')}`;
  if (!host.endsWith(suffix)) return undefined;
  const label = host.slice(0, -suffix.length);
  return label.length > 0 && !label.includes('.') ? label : undefined;
}

/** The actor of the check's own context: the check reads the context's tenant only. */
const CHECK_ACTOR = Object.freeze({ id: 'tenantry-http-request', kind: 'service' as const });

/**
 * Refuse a request whose client-named tenant disagrees with the tenant of its verified credentials
 * (invariant T2), by core's one tenant rule (`resolveTenantId`, invariant T1): the credentials' tenant
 * is the context, each named tenant the explicit one. Credentials without a tenant (platform staff)
 * establish no tenant context, so naming a tenant with them is refused as naming a tenant outside any
 * context (`TENANT_CONTEXT_MISSING`); they work on tenants through the audited system scope.
 * @throws TenantryError `TENANT_CONTEXT_CONFLICT` (another tenant named), `TENANT_CONTEXT_MISSING` (a tenant named with credentials that carry none)
 */
export function assertNamedTenantsAgree(
  verifiedTenantId: string | undefined,
  named: readonly NamedTenant[],
): void {
  if (verifiedTenantId !== undefined && typeof verifiedTenantId !== 'string') {
    invalid('verified tenant id', [], 'must be a string or undefined');
  }
  if (!Array.isArray(named)) invalid('named tenants', [], 'must be an array');
  for (let i = 0; i < named.length; i++) {
    const n: unknown = named[i];
    if (!isObject(n) || !NAMED_SOURCES.has(n.source)) {
      invalid('named tenants', [i, 'source'], 'must be header, query, param or subdomain');
    }
  }
  if (named.length === 0) return;
  const check = (): void => {
    for (const n of named) {
      if (!TenantIdSchema.safeParse(n.tenantId).success) {
        // Not a tenant id at all, so not the credentials' tenant: refused as a conflict, never echoed.
        throw new TenantryError(
          'TENANT_CONTEXT_CONFLICT',
          `The tenant named in the request ${n.source} is not the tenant of the credentials`,
          { details: { source: n.source } },
        );
      }
      try {
        resolveTenantId(n.tenantId, `tenant named in the request ${n.source}`);
      } catch (error) {
        // Core's message speaks to the application developer (runAsSystem…); an API client gets one
        // about its request, with the same code.
        const what = NAMED_LABEL[n.source as NamedTenant['source']];
        if (isTenantryError(error, 'TENANT_CONTEXT_CONFLICT')) {
          throw new TenantryError(
            'TENANT_CONTEXT_CONFLICT',
            `The ${what} names a tenant other than the token's`,
            {
              details: { source: n.source },
              cause: error,
            },
          );
        }
        if (isTenantryError(error, 'TENANT_CONTEXT_MISSING')) {
          throw new TenantryError(
            'TENANT_CONTEXT_MISSING',
            `The ${what} names a tenant, but the token carries none; platform credentials cannot name a tenant`,
            { details: { source: n.source }, cause: error },
          );
        }
        throw error;
      }
    }
  };
  if (verifiedTenantId === undefined || currentTenantContext()?.tenantId === verifiedTenantId) check();
  else runAsTenant({ tenantId: verifiedTenantId, actor: CHECK_ACTOR }, check);
}

/**
 * A resolver that takes the tenant from what the client sent (subdomain, header), without credentials
 * proving it. Only for deployments where something in front (a gateway that authenticates and sets the
 * header, a per-tenant ingress) already guarantees it. The literal acknowledgement keeps it from being
 * switched on by accident.
 */
export interface UntrustedClientTenantResolver {
  readonly acknowledge: 'the client chooses the tenant';
  /** The tenant for a request that carries no tenant-bearing token, or `undefined` to refuse it. */
  resolve(req: RequestView): string | undefined;
}
