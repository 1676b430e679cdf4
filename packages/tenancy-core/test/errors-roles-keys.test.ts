import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  MemoryLogger,
  TenantryError,
  createTenantKeys,
  createUuidV7Generator,
  defineAccessPolicy,
  isTenantryError,
  runAsTenant,
} from '../src/index.js';
import { asTenant } from './helpers.js';

describe('TenantryError', () => {
  it('carries a stable code and safe details, and its JSON omits the cause chain', () => {
    const cause = new Error('password=hunter2');
    const err = new TenantryError('SOMETHING_FAILED', 'It failed', { cause, details: { id: 7 } });
    expect(err.code).toBe('SOMETHING_FAILED');
    expect(err.cause).toBe(cause);
    expect(JSON.stringify(err)).not.toContain('hunter2');
    expect(err.toJSON()).toEqual({
      name: 'TenantryError',
      code: 'SOMETHING_FAILED',
      message: 'It failed',
      details: { id: 7 },
    });
    expect(isTenantryError(err)).toBe(true);
    expect(isTenantryError(err, 'SOMETHING_FAILED')).toBe(true);
    expect(isTenantryError(err, 'OTHER')).toBe(false);
    expect(isTenantryError(new Error('x'))).toBe(false);
    expect(isTenantryError({ code: 'SOMETHING_FAILED' })).toBe(false);
  });

  it('subclasses keep their name', () => {
    class SequencerError extends TenantryError {}
    expect(new SequencerError('X', 'y').name).toBe('SequencerError');
  });
});

describe('access policy', () => {
  const policy = defineAccessPolicy({
    grants: { SUPER_ADMIN: ['*'], MANAGER: ['invoice:*'], USER: ['invoice:read'], AUDITOR: ['audit:read'] },
    inherits: { TENANT_ADMIN: ['MANAGER', 'AUDITOR'] },
  });

  it('grants by role, wildcard and inheritance; custom roles work', () => {
    expect(policy.can({ roles: ['USER'] }, 'invoice:read')).toBe(true);
    expect(policy.can({ roles: ['USER'] }, 'invoice:void')).toBe(false);
    expect(policy.can({ roles: ['MANAGER'] }, 'invoice:void')).toBe(true);
    expect(policy.can({ roles: ['TENANT_ADMIN'] }, 'audit:read')).toBe(true);
    expect(policy.can({ roles: ['TENANT_ADMIN'] }, 'tenant:delete')).toBe(false);
    expect(policy.can({ roles: ['SUPER_ADMIN'] }, 'tenant:delete')).toBe(true);
    expect(policy.can({ roles: [] }, 'invoice:read')).toBe(false);
  });

  it('assert throws PERMISSION_DENIED', () => {
    expect(() => policy.assert({ roles: ['USER'] }, 'invoice:void')).toThrowError(
      expect.objectContaining({ code: 'PERMISSION_DENIED' }),
    );
  });

  it('expresses API segments as role sets', () => {
    expect(policy.inSegment({ roles: ['SUPER_ADMIN'] }, 'system')).toBe(true);
    expect(policy.inSegment({ roles: ['TENANT_ADMIN'] }, 'system')).toBe(false);
    expect(policy.inSegment({ roles: ['PARTNER_ADMIN'] }, 'backOffice')).toBe(true);
    expect(policy.inSegment({ roles: ['OPERATOR'] }, 'operations')).toBe(true);
    expect(policy.inSegment({ roles: ['OPERATOR'] }, 'backOffice')).toBe(false);
  });

  it('rejects inheritance cycles and malformed names', () => {
    expect(() => defineAccessPolicy({ grants: {}, inherits: { A: ['B'], B: ['A'] } })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => defineAccessPolicy({ grants: { lower: ['x:y'] } })).toThrow();
  });
});

describe('tenant-scoped keys (T4)', () => {
  it('namespaces caches, locks, queues and object paths by the current tenant', () => {
    runAsTenant({ tenantId: 'acme', actor: { id: 'u' } }, () => {
      const k = createTenantKeys();
      expect(k.cacheKey('user', 42)).toBe('tenantry:t:acme:cache:user:42');
      expect(k.lockKey('invoice', 'A')).toBe('tenantry:t:acme:lock:invoice:A');
      expect(k.queueName('emails')).toBe('tenantry.t.acme.emails');
      expect(k.objectPath('exports', 'a b.json')).toBe('tenantry/tenants/acme/exports/a%20b.json');
    });
  });

  it('a key part can never forge another tenant prefix or escape its folder', () => {
    const k = asTenant('acme', () => createTenantKeys('acme', { namespace: 'app' }));
    const forged = k.cacheKey('x:t:globex:cache:secret');
    expect(forged.startsWith('app:t:acme:cache:')).toBe(true);
    expect(forged.split(':').length).toBe(5);
    expect(k.objectPath('../globex/file')).toBe('app/tenants/acme/..%2Fglobex%2Ffile');
    expect(() => k.objectPath('..')).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => k.queueName('a.b')).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('needs a tenant from the context: naming one outside it, or another inside it, is refused (T1)', () => {
    expect(() => createTenantKeys()).toThrowError(
      expect.objectContaining({ code: 'TENANT_CONTEXT_MISSING' }),
    );
    expect(() => createTenantKeys('acme')).toThrowError(
      expect.objectContaining({ code: 'TENANT_CONTEXT_MISSING' }),
    );
    expect(() => asTenant('acme', () => createTenantKeys('globex'))).toThrowError(
      expect.objectContaining({ code: 'TENANT_CONTEXT_CONFLICT' }),
    );
    expect(() => asTenant('acme', () => createTenantKeys('bad/tenant'))).toThrowError(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(asTenant('acme', () => createTenantKeys(undefined, { hashTagTenant: true })).lockKey('s')).toBe(
      'tenantry:t:{acme}:lock:s',
    );
  });
});

describe('ports and ids', () => {
  it('UUIDv7 ids are well formed and strictly increasing within one millisecond', () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const next = createUuidV7Generator(clock);
    const ids = Array.from({ length: 1000 }, () => next());
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    expect(ids[0]!.slice(0, 8)).toBe(
      (Date.parse('2026-01-01T00:00:00Z') / 65536).toString(16).split('.')[0]!.padStart(8, '0'),
    );
  });

  it('MemoryLogger keeps pino-style calls with child bindings', () => {
    const log = new MemoryLogger();
    log.child({ tenantId: 'acme' }).info({ op: 'x' }, 'done');
    log.warn('plain');
    expect(log.entries).toEqual([
      { level: 'info', msg: 'done', fields: { tenantId: 'acme', op: 'x' } },
      { level: 'warn', msg: 'plain', fields: {} },
    ]);
  });
});
