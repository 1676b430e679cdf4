import { describe, expect, it } from 'vitest';
import { defineAccessPolicy } from '../src/index.js';

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
