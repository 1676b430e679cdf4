import { describe, expect, it } from 'vitest';
import { createTenantKeys, runAsTenant } from '../src/index.js';
import { asTenant } from './helpers.js';

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
