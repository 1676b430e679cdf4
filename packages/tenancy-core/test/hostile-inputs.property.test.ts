// Hostile inputs to exported functions: every failure is a TenantryError with a code, never a raw
// TypeError, RangeError, URIError or ZodError.
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  createGatekeeper,
  createImpersonation,
  createJobContextCodec,
  createQuotas,
  createTenantConfigCache,
  createTenantDirectory,
  createTenantKeys,
  defineAccessPolicy,
  defineSettings,
  isTenantryError,
  MemoryAuditPort,
  MemoryNotificationPort,
  parseInput,
  resolveTenantId,
  runAsSystem,
  runAsTenant,
  TenantIdSchema,
  windowBounds,
} from '../src/index.js';
import { MemoryInvalidationBus, MemoryQuotaStore, MemoryTenantStore } from '../src/memory.js';
import { quoteIdent, quoteLiteral, tenantTableSql } from '../src/postgres.js';
import { asSystem, asTenant } from './helpers.js';

const deep = (n: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
};
const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;
const HOSTILE: unknown[] = [
  undefined,
  null,
  0,
  -1,
  Number.NaN,
  10n,
  '',
  'a\ud800b',
  '\u0000',
  '..',
  'x'.repeat(100_000),
  {},
  [],
  { __proto__: { polluted: true } },
  deep(10_000),
  cyclic,
  () => 1,
  Symbol('s'),
];

async function outcome(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return isTenantryError(e)
      ? 'typed'
      : `UNTYPED ${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 80)}`;
  }
}

const store = new MemoryTenantStore();
const bus = new MemoryInvalidationBus();
const directory = createTenantDirectory({ store, bus });
const cache = createTenantConfigCache({ store, bus });
const quotas = createQuotas({
  store: new MemoryQuotaStore(),
  quotas: { emails: { window: 'day', defaultLimit: 5 } },
});
const gate = createGatekeeper({ config: cache });
const impersonation = createImpersonation({
  audit: new MemoryAuditPort(),
  notifications: new MemoryNotificationPort(),
});
const policy = defineAccessPolicy({ grants: { USER: ['invoice:read'] } });
const codec = createJobContextCodec({ insecureUnsigned: true });

const targets: Record<string, (x: unknown) => unknown> = {
  quoteIdent: (x) => quoteIdent(x as string),
  quoteLiteral: (x) => quoteLiteral(x as string),
  tenantTableSql: (x) => tenantTableSql(x as never),
  tenantTableSqlTable: (x) => tenantTableSql({ table: x as string }),
  canonicalJson: (x) => canonicalJson(x),
  resolveTenantId: (x) => asTenant('acme', () => resolveTenantId(x as string, 'thing')),
  parseInput: (x) => parseInput(TenantIdSchema, x, 'tenant id'),
  runAsTenant: (x) => runAsTenant(x as never, () => 1),
  runAsTenantId: (x) => runAsTenant({ tenantId: x as string, actor: { id: 'u' } }, () => 1),
  runAsSystem: (x) => runAsSystem(x as never, new MemoryAuditPort(), () => 1),
  keysCache: (x) => asTenant('acme', () => createTenantKeys().cacheKey(x as string)),
  keysPath: (x) => asTenant('acme', () => createTenantKeys().objectPath(x as string)),
  keysQueue: (x) => asTenant('acme', () => createTenantKeys().queueName(x as string)),
  keysOptions: (x) => asTenant('acme', () => createTenantKeys(undefined, x as never)),
  defineAccessPolicy: (x) => defineAccessPolicy(x as never),
  policyAssert: (x) => policy.assert(x as never, 'invoice:read'),
  policyAssertPermission: (x) => policy.assert({ roles: ['USER'] }, x as string),
  defineSettings: (x) => defineSettings(x as never),
  jobCodecOptions: (x) => createJobContextCodec(x as never),
  jobRestore: (x) => codec.restore(x, () => 1),
  quotasConsume: (x) => asTenant('acme', () => quotas.consume(x as string)),
  quotasConsumeOptions: (x) => asTenant('acme', () => quotas.consume('emails', x as never)),
  quotasRefund: (x) => asTenant('acme', () => quotas.refund('emails', x as never)),
  createQuotas: (x) => createQuotas(x as never),
  windowBounds: (x) => windowBounds(x as never, Date.now()),
  directoryCreateTenant: (x) => asSystem(() => directory.createTenant(x as never)),
  directoryUpdateTenant: (x) => asTenant('acme', () => directory.updateTenant('acme', x as never)),
  directoryGetTenant: (x) => asTenant('acme', () => directory.getTenant(x as string)),
  directoryPutPlan: (x) => asSystem(() => directory.putPlan(x as never)),
  cacheGet: (x) => asTenant('acme', () => cache.get(x as string)),
  gateCheck: (x) => asTenant('acme', () => gate.check(x as never)),
  impersonationStart: (x) => asSystem(() => impersonation.start(x as never)),
};

describe('hostile inputs to exported functions', () => {
  it('every failure is a TenantryError with a code', async () => {
    const untyped: string[] = [];
    for (const [name, fn] of Object.entries(targets)) {
      for (const [i, value] of HOSTILE.entries()) {
        const r = await outcome(() => fn(value));
        if (r.startsWith('UNTYPED')) untyped.push(`${name}(#${i}): ${r}`);
      }
    }
    expect(untyped).toEqual([]);
  });

  it('the cases named in issue 11 fail with VALIDATION_FAILED', async () => {
    const code = async (fn: () => unknown) => {
      try {
        await fn();
        return 'ok';
      } catch (e) {
        return isTenantryError(e) ? e.code : 'untyped';
      }
    };
    expect(await code(() => quoteLiteral(null as never))).toBe('VALIDATION_FAILED');
    expect(await code(() => asTenant('acme', () => createTenantKeys().objectPath('a\ud800b')))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await code(() => canonicalJson(deep(10_000)))).toBe('VALIDATION_FAILED');
    expect(canonicalJson(deep(100))).toContain('"leaf"');
  });
});
