import { describe, expect, it } from 'vitest';
import {
  type AuditPort,
  type AuditPortEvent,
  ManualClock,
  MemoryAuditPort,
  MemoryLogger,
  MemoryNotificationPort,
  createImpersonation,
  currentTenantContext,
  defineAccessPolicy,
  isTenantryError,
  requireTenant,
} from '../src/index.js';
import { asSystem } from './helpers.js';

const support = { id: 'sup-1', roles: ['SUPER_ADMIN'], displayName: 'Sam Support' };
const target = { id: 'u-42', roles: ['TENANT_ADMIN'] };
const reason = 'Ticket #1234: invoice totals look wrong';

function setup(overrides: Partial<Parameters<typeof createImpersonation>[0]> = {}) {
  const audit = new MemoryAuditPort();
  const notifications = new MemoryNotificationPort();
  const clock = new ManualClock('2026-03-05T10:00:00Z');
  const imp = createImpersonation({ audit, notifications, clock, ...overrides });
  return { audit, notifications, clock, imp };
}

describe('impersonation', () => {
  it('start records an audit event naming both people, then notifies the tenant', () =>
    asSystem(async () => {
      const { audit, notifications, imp } = setup();
      const s = await imp.start({ support, tenantId: 'acme', target, reason, durationMs: 600_000 });
      expect(s.expiresAt.toISOString()).toBe('2026-03-05T10:10:00.000Z');
      const [started] = audit.withAction('impersonation.started');
      expect(started).toMatchObject({
        tenantId: 'acme',
        actor: { id: 'u-42' },
        impersonator: { id: 'sup-1' },
        outcome: 'success',
        metadata: { reason, supportUserId: 'sup-1', targetUserId: 'u-42', sessionId: s.id },
      });
      expect(notifications.sent).toEqual([
        expect.objectContaining({
          tenantId: 'acme',
          kind: 'impersonation.started',
          data: expect.objectContaining({ supportUserId: 'sup-1', targetUserId: 'u-42', reason }),
        }),
      ]);
    }));

  it('run carries both identities in the tenant context, and refuses once expired', () =>
    asSystem(async () => {
      const { clock, imp } = setup();
      const s = await imp.start({ support, tenantId: 'acme', target, reason, durationMs: 60_000 });
      const ctx = await imp.run(
        s,
        async () => {
          await new Promise((r) => setTimeout(r, 1));
          return requireTenant();
        },
        'req-9',
      );
      expect(ctx).toMatchObject({
        tenantId: 'acme',
        actor: { id: 'u-42' },
        impersonator: { id: 'sup-1' },
        requestId: 'req-9',
      });
      expect(currentTenantContext()).toBeUndefined();
      clock.advance(60_000);
      expect(() => imp.run(s, () => 1)).toThrow(expect.objectContaining({ code: 'IMPERSONATION_EXPIRED' }));
    }));

  it('end records impersonation.ended, notifies, and makes the session unusable; ending twice is a no-op', () =>
    asSystem(async () => {
      const { audit, notifications, imp } = setup();
      const s = await imp.start({ support, tenantId: 'acme', target, reason });
      await imp.end(s);
      await imp.end(s);
      expect(audit.withAction('impersonation.ended')).toHaveLength(1);
      expect(audit.withAction('impersonation.ended')[0]).toMatchObject({
        actor: { id: 'u-42' },
        impersonator: { id: 'sup-1' },
      });
      expect(notifications.sent.map((n) => n.kind)).toEqual(['impersonation.started', 'impersonation.ended']);
      expect(() => imp.run(s, () => 1)).toThrow(expect.objectContaining({ code: 'IMPERSONATION_EXPIRED' }));
    }));

  it('requires SUPER_ADMIN (or a configured role / policy permission) and audits refusals', () =>
    asSystem(async () => {
      const { audit, notifications, imp } = setup();
      const manager = { id: 'm-1', roles: ['MANAGER'] };
      await expect(imp.start({ support: manager, tenantId: 'acme', target, reason })).rejects.toSatisfy((e) =>
        isTenantryError(e, 'PERMISSION_DENIED'),
      );
      expect(audit.withAction('impersonation.denied')[0]).toMatchObject({
        outcome: 'denied',
        impersonator: { id: 'm-1' },
      });
      expect(audit.withAction('impersonation.started')).toHaveLength(0);
      expect(notifications.sent).toHaveLength(0);

      const byRole = setup({ supportRoles: ['SUPPORT'] }).imp;
      await expect(
        byRole.start({ support: { id: 's2', roles: ['SUPPORT'] }, tenantId: 'acme', target, reason }),
      ).resolves.toBeTruthy();
      await expect(byRole.start({ support, tenantId: 'acme', target, reason })).rejects.toSatisfy((e) =>
        isTenantryError(e, 'PERMISSION_DENIED'),
      );
      const policy = defineAccessPolicy({ grants: { HELPDESK: ['tenant:impersonate'] } });
      const byPolicy = setup({ accessPolicy: policy }).imp;
      await expect(
        byPolicy.start({ support: { id: 's3', roles: ['HELPDESK'] }, tenantId: 'acme', target, reason }),
      ).resolves.toBeTruthy();
    }));

  it('refuses to impersonate oneself or another support user, and needs a real reason', () =>
    asSystem(async () => {
      const { imp } = setup();
      await expect(imp.start({ support, tenantId: 'acme', target: support, reason })).rejects.toSatisfy((e) =>
        isTenantryError(e, 'IMPERSONATION_TARGET_FORBIDDEN'),
      );
      await expect(
        imp.start({ support, tenantId: 'acme', target: { id: 'other', roles: ['SUPER_ADMIN'] }, reason }),
      ).rejects.toSatisfy((e) => isTenantryError(e, 'IMPERSONATION_TARGET_FORBIDDEN'));
      await expect(imp.start({ support, tenantId: 'acme', target, reason: 'pls' })).rejects.toSatisfy((e) =>
        isTenantryError(e, 'VALIDATION_FAILED'),
      );
    }));

  it('refuses a target holding the permission through the policy, and a session started inside a session', () =>
    asSystem(async () => {
      const policy = defineAccessPolicy({ grants: { HELPDESK: ['tenant:impersonate'] } });
      const { audit, imp } = setup({ accessPolicy: policy });
      await expect(
        imp.start({ support, tenantId: 'acme', target: { id: 'h-1', roles: ['HELPDESK'] }, reason }),
      ).rejects.toSatisfy((e) => isTenantryError(e, 'IMPERSONATION_TARGET_FORBIDDEN'));
      const session = await imp.start({ support, tenantId: 'acme', target, reason });
      const cfo = { id: 'cfo', roles: ['TENANT_ADMIN'] };
      const nested = await imp
        .run(session, () => imp.start({ support, tenantId: 'acme', target: cfo, reason }))
        .then(
          () => 'started',
          (e: unknown) => (isTenantryError(e) ? e.code : 'untyped'),
        );
      expect(nested).toBe('IMPERSONATION_TARGET_FORBIDDEN');
      expect(audit.withAction('impersonation.started').map((e) => e.actor.id)).toEqual(['u-42']);
    }));

  it('caps the duration at maxDurationMs', () =>
    asSystem(async () => {
      const { imp } = setup({ maxDurationMs: 120_000 });
      const s = await imp.start({ support, tenantId: 'acme', target, reason, durationMs: 86_400_000 });
      expect(s.expiresAt.getTime() - s.startedAt.getTime()).toBe(120_000);
    }));

  it('fails closed when the audit write fails: no session, no notification', () =>
    asSystem(async () => {
      const failing: AuditPort = { record: async () => Promise.reject(new Error('audit store down')) };
      const { notifications, imp } = setup({ audit: failing });
      await expect(imp.start({ support, tenantId: 'acme', target, reason })).rejects.toSatisfy((e) =>
        isTenantryError(e, 'IMPERSONATION_AUDIT_FAILED'),
      );
      expect(notifications.sent).toHaveLength(0);
    }));

  it('fails closed when the tenant cannot be notified (ends the session, audited), or only logs if configured', () =>
    asSystem(async () => {
      const audit = new MemoryAuditPort();
      const down = { notify: async () => Promise.reject(new Error('mailer down')) };
      const strict = createImpersonation({ audit, notifications: down, clock: new ManualClock(0) });
      await expect(strict.start({ support, tenantId: 'acme', target, reason })).rejects.toSatisfy((e) =>
        isTenantryError(e, 'IMPERSONATION_NOTIFY_FAILED'),
      );
      expect(audit.events.map((e: AuditPortEvent) => [e.action, e.outcome])).toEqual([
        ['impersonation.started', 'success'],
        ['impersonation.ended', 'failure'],
      ]);
      const logger = new MemoryLogger();
      const lenient = createImpersonation({ audit, notifications: down, logger, onNotifyFailure: 'log' });
      await expect(lenient.start({ support, tenantId: 'acme', target, reason })).resolves.toBeTruthy();
      expect(logger.entries.some((e) => e.level === 'warn')).toBe(true);
    }));
});
