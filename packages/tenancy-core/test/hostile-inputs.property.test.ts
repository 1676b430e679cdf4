// Hostile inputs to exported functions: every failure is a TenantryError with a code, never a raw
// TypeError, RangeError, URIError or ZodError.
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  TenancyModelError,
  TenantryError,
  ValidationError,
  assertTransition,
  canTransitionSubscription,
  canTransitionTenant,
  requireSystemScope,
  resolveTenantSettings,
  runWithoutContext,
  withSpan,
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
import { MongoTenantStore } from '../src/mongo.js';
import {
  PostgresInvalidationBus,
  PostgresQuotaStore,
  PostgresTenantStore,
  assertRlsEnforced,
  quoteIdent,
  quoteLiteral,
  tenantTableSql,
} from '../src/postgres.js';
import { RedisInvalidationBus, RedisQuotaStore } from '../src/redis.js';
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

describe('boundary checks of every public function and class (hostile arguments)', () => {
  const calls: Record<string, (v: unknown) => unknown> = {
    parseInput: (v) => parseInput(v as never, v, v as never),
    resolveTenantId: (v) => resolveTenantId(v as never, v as never),
    requireSystemScope: (v) => requireSystemScope(v as never),
    runWithoutContext: (v) => runWithoutContext(v as never),
    withSpan: (v) => withSpan(v as never, v as never, v as never, v as never),
    ManualClock: (v) => new ManualClock(v as never),
    'ManualClock.advance': (v) => new ManualClock(0).advance(v as never),
    canTransitionTenant: (v) => canTransitionTenant(v as never, v as never),
    canTransitionSubscription: (v) => canTransitionSubscription(v as never, v as never),
    assertTransition: (v) => assertTransition(v as never, v as never, v as never, v as never),
    resolveTenantSettings: (v) => resolveTenantSettings(v as never, v as never),
    createGatekeeper: (v) => createGatekeeper(v as never),
    createImpersonation: (v) => createImpersonation(v as never),
    createTenantConfigCache: (v) => createTenantConfigCache(v as never),
    createTenantDirectory: (v) => createTenantDirectory(v as never),
    PostgresTenantStore: (v) => new PostgresTenantStore(v as never),
    PostgresInvalidationBus: (v) => new PostgresInvalidationBus(v as never),
    RedisInvalidationBus: (v) => new RedisInvalidationBus(v as never),
    MongoTenantStore: (v) => new MongoTenantStore(v as never),
    assertRlsEnforced: (v) => assertRlsEnforced(v as never, v as never),
  };
  for (const [name, call] of Object.entries(calls)) {
    it(`${name} fails typed (or returns) on every hostile input`, async () => {
      const bad: string[] = [];
      for (const v of HOSTILE) {
        const r = await outcome(() => call(v));
        if (r.startsWith('UNTYPED')) bad.push(r);
      }
      expect(bad).toEqual([]);
    });
  }

  it('rejects a 10 MB string as options at once, without copying it', () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    for (const make of [
      () => new PostgresQuotaStore(huge as never),
      () => new RedisQuotaStore(huge as never),
      () => new PostgresTenantStore(huge as never),
      () => createTenantDirectory(huge as never),
    ]) {
      const started = performance.now();
      expect(make).toThrow(ValidationError);
      expect(performance.now() - started).toBeLessThan(100);
    }
  });

  it('classes validate their drivers by shape before reading them', () => {
    expect(() => new PostgresTenantStore({ pool: {} } as never)).toThrow(ValidationError);
    expect(() => new MongoTenantStore({ db: {} } as never)).toThrow(ValidationError);
    expect(() => new MongoTenantStore({ db: { collection: () => ({}) }, prefix: 'a.$b' } as never)).toThrow(
      ValidationError,
    );
    expect(() => new ManualClock('not a date')).toThrow(ValidationError);
  });

  it('error constructors never throw on odd arguments, and coerce them safely', () => {
    const e = new TenantryError(Symbol('code') as never, Symbol('message') as never, null as never);
    expect(isTenantryError(e)).toBe(true);
    expect(typeof e.code).toBe('string');
    expect(new TenantryError('X', 'y', { details: 'abc' as never }).details).toEqual({});
    expect(new TenancyModelError('NOT_FOUND', 'x', null as never).code).toBe('NOT_FOUND');
    const v = new ValidationError(Symbol('what') as never, null as never);
    expect(v.code).toBe('VALIDATION_FAILED');
    expect(new ValidationError('x'.repeat(10_000), []).message.length).toBeLessThan(300 + 10_000);
  });

  it('transitions: unknown states are a VALIDATION_FAILED, the machine is unchanged', () => {
    expect(() => canTransitionTenant('toString' as never, 'ACTIVE')).toThrow(ValidationError);
    expect(() => canTransitionSubscription('__proto__' as never, 'ACTIVE')).toThrow(ValidationError);
    expect(canTransitionTenant('PROVISIONING', 'ACTIVE')).toBe(true);
    expect(canTransitionSubscription('CANCELED', 'ACTIVE')).toBe(false);
    expect(() => assertTransition('tenant', Symbol('x') as never, 'ACTIVE')).toThrow(TenancyModelError);
  });
});
