import { z } from 'zod';
import { TenantryError } from './errors.js';
import { resolveTenantId } from './tenant-resolution.js';
import { ValidationError, isWellFormedUnicode, parseInput } from './validation.js';

/** One part of a key or path: non-empty, no control characters. Separators inside parts are escaped. */
const PartSchema = z.union([
  // A lone surrogate would be sent as U+FFFD, so two different parts could name one key.
  z
    .string()
    .min(1)
    .max(512)
    .refine((s) => isWellFormedUnicode(s), 'must be well-formed Unicode'),
  z.number().int().nonnegative(),
]);
const PartsSchema = z.array(PartSchema).min(1).max(32);

/** Options for {@link createTenantKeys}. */
export interface TenantKeysOptions {
  /** A prefix for everything this app writes, e.g. the app name. @default 'tenantry' */
  namespace?: string;
  /**
   * Wrap the tenant in a Redis Cluster hash tag (`{tenant}`) so a tenant's keys can be used together
   * in one multi-key command or script. Off by default: it puts one tenant's whole keyspace on one slot.
   * @default false
   */
  hashTagTenant?: boolean;
}

/** Tenant-namespaced names for caches, locks, queues and object paths (invariant T4). */
export interface TenantKeys {
  /** `ns:t:<tenant>:cache:<parts…>` */
  cacheKey(...parts: Array<string | number>): string;
  /** `ns:t:<tenant>:lock:<parts…>` */
  lockKey(...parts: Array<string | number>): string;
  /** `ns.t.<tenant>.<name>`: queue names allow fewer characters than keys. */
  queueName(name: string): string;
  /** `ns/tenants/<tenant>/<parts…>`: object-storage paths, each part percent-encoded so `..` and `/` cannot escape. */
  objectPath(...parts: Array<string | number>): string;
  /** The tenant these keys belong to. */
  readonly tenantId: string;
}

// `:` separates parts and `%` escapes, so a part can never forge another tenant's prefix.
const escapePart = (p: string | number): string => String(p).replace(/%/g, '%25').replace(/:/g, '%3A');
const encodePathPart = (p: string | number): string => {
  const s = String(p);
  if (s === '.' || s === '..')
    throw new TenantryError('VALIDATION_FAILED', 'Object path parts may not be . or ..');
  return encodeURIComponent(s);
};

/**
 * Key builders for one tenant, resolved with `resolveTenantId`: the context's tenant when `tenantId` is
 * omitted; another tenant only inside `runAsSystem`.
 * @throws TenantryError `TENANT_CONTEXT_MISSING` outside any context, `TENANT_CONTEXT_CONFLICT` naming another tenant
 * @throws ValidationError `VALIDATION_FAILED` on a malformed tenant id or key part
 * @example createTenantKeys().cacheKey('user', userId) // 'tenantry:t:acme:cache:user:42'
 */
export function createTenantKeys(tenantId?: string, options: TenantKeysOptions = {}): TenantKeys {
  const tenant = resolveTenantId(tenantId, 'tenant keys');
  if (options === null || typeof options !== 'object') {
    throw new ValidationError('tenant keys options', [{ path: [], message: 'must be an object' }]);
  }
  const ns = parseInput(
    z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/),
    options.namespace ?? 'tenantry',
    'key namespace',
  );
  const t = options.hashTagTenant ? `{${tenant}}` : tenant;
  const key = (kind: string, parts: Array<string | number>): string =>
    [ns, 't', t, kind, ...parseInput(PartsSchema, parts, 'key parts').map(escapePart)].join(':');
  return Object.freeze({
    tenantId: tenant,
    cacheKey: (...parts: Array<string | number>) => key('cache', parts),
    lockKey: (...parts: Array<string | number>) => key('lock', parts),
    queueName: (name: string) =>
      `${ns}.t.${tenant}.${parseInput(z.string().regex(/^[A-Za-z0-9_-]{1,128}$/), name, 'queue name')}`,
    objectPath: (...parts: Array<string | number>) =>
      [ns, 'tenants', tenant, ...parseInput(PartsSchema, parts, 'path parts').map(encodePathPart)].join('/'),
  });
}
