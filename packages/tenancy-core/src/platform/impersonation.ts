import type { Span } from '@opentelemetry/api';
import { z } from 'zod';
import { currentTenantContext, runAsTenant } from '../kernel/context.js';
import { type CoreErrorCode, TenantryError } from '../kernel/errors.js';
import { type Actor, ActorSchema, TenantIdSchema } from '../kernel/identity.js';
import { createUuidV7Generator } from '../kernel/ids.js';
import type { AuditPort, AuditPortEvent } from '../kernel/ports/audit-port.js';
import { systemClock, type Clock } from '../kernel/ports/clock.js';
import { type Logger, noopLogger } from '../kernel/ports/logger.js';
import type { NotificationPort } from '../kernel/ports/notification-port.js';
import { type AccessPolicy, RoleSchema, Roles } from '../kernel/roles.js';
import { withSpan } from '../kernel/telemetry.js';
import { resolveTenantId } from '../kernel/tenant-resolution.js';
import { parseInput, requireOptionsObject } from '../kernel/validation.js';

/** The codes impersonation raises (entries of `CoreErrorCodes`). */
export type ImpersonationErrorCode = Extract<
  CoreErrorCode,
  | 'IMPERSONATION_EXPIRED'
  | 'IMPERSONATION_TARGET_FORBIDDEN'
  | 'IMPERSONATION_AUDIT_FAILED'
  | 'IMPERSONATION_NOTIFY_FAILED'
>;

/** Raised by impersonation; missing rights raise core's `PERMISSION_DENIED`. */
export class ImpersonationError extends TenantryError {
  declare readonly code: ImpersonationErrorCode;
}

/** Input of {@link Impersonation.start}. */
export const StartImpersonationSchema = z
  .object({
    /** The support person, from their verified credentials. */
    support: ActorSchema,
    /** The tenant whose user is entered. */
    tenantId: TenantIdSchema,
    /** The tenant user whose account is entered (id and roles in that tenant). */
    target: ActorSchema,
    /** Why (ticket number and summary); recorded in the audit trail and sent to the tenant. */
    reason: z.string().trim().min(10).max(500),
    /** How long the session may be used, in ms; capped by `maxDurationMs`. @default 900000 (15 minutes) */
    durationMs: z.number().int().min(1000).optional(),
  })
  .strict();
export type StartImpersonationInput = z.input<typeof StartImpersonationSchema>;

/**
 * A started impersonation. Keep it server-side (e.g. in the support user's server session); never
 * accept one from the client.
 */
export interface ImpersonationSession {
  readonly id: string;
  readonly tenantId: string;
  readonly support: Actor;
  readonly target: Actor;
  readonly reason: string;
  readonly startedAt: Date;
  readonly expiresAt: Date;
}

/** Options of {@link createImpersonation}. */
export interface ImpersonationOptions {
  /** Where `impersonation.started`/`ended`/`denied` events go; a failed write refuses to start (fail closed). */
  audit: AuditPort;
  /** Tells the tenant that support entered (and left) its account. */
  notifications: NotificationPort;
  /**
   * Roles allowed to impersonate. The support actor needs one of them, or `permission` through
   * `accessPolicy`. Targets holding any of these roles can never be impersonated.
   * @default ['SUPER_ADMIN']
   */
  supportRoles?: readonly string[];
  /** Also allow actors whose roles grant `permission` in this policy. */
  accessPolicy?: AccessPolicy;
  /** @default 'tenant:impersonate' */
  permission?: string;
  /** Longest allowed session, in ms. @default 3600000 (1 hour) */
  maxDurationMs?: number;
  /**
   * What to do when the notification fails: `'fail-closed'` ends the session (audited) and throws
   * `IMPERSONATION_NOTIFY_FAILED`; `'log'` logs a warning and continues.
   * @default 'fail-closed'
   */
  onNotifyFailure?: 'fail-closed' | 'log';
  /** @default systemClock */
  clock?: Clock;
  /** @default noopLogger */
  logger?: Logger;
}

/** Support access to a tenant user's account, audited and time-limited. */
export interface Impersonation {
  /**
   * Start a session. Support tooling is cross-tenant work: call it inside `runAsSystem` (the tenant is
   * resolved with `resolveTenantId`, so outside any context it is `TENANT_CONTEXT_MISSING`). Checks the support actor's rights, records `impersonation.started` (naming both
   * people) and notifies the tenant, in that order.
   * @throws TenantryError `PERMISSION_DENIED` when the support actor lacks the role/permission (audited as `denied`)
   * @throws ImpersonationError `IMPERSONATION_TARGET_FORBIDDEN`, `IMPERSONATION_AUDIT_FAILED`, `IMPERSONATION_NOTIFY_FAILED`
   * @throws ValidationError `VALIDATION_FAILED` (e.g. a reason shorter than 10 characters)
   */
  start(input: StartImpersonationInput): Promise<ImpersonationSession>;
  /**
   * Run `fn` as the target user with the support user as `impersonator` in the tenant context.
   * @throws ImpersonationError `IMPERSONATION_EXPIRED` once `expiresAt` has passed or the session was ended
   */
  run<R>(session: ImpersonationSession, fn: () => R, requestId?: string): R;
  /**
   * End a session early: records `impersonation.ended` and notifies the tenant. Ending twice is a no-op.
   * @throws ImpersonationError `IMPERSONATION_AUDIT_FAILED` when the audit write fails (the session is still ended)
   */
  end(session: ImpersonationSession): Promise<void>;
}

/**
 * Create the impersonation service. Who may impersonate: actors holding one of `supportRoles`
 * (default `SUPER_ADMIN`) or the `tenant:impersonate` permission through `accessPolicy`.
 * Sessions end at `expiresAt` (default 15 minutes, at most `maxDurationMs`); `run` checks the clock each
 * time it is entered. Ended sessions are remembered in this process only: in a multi-process app, keep
 * sessions server-side and delete them on `end`, as expiry is enforced everywhere from `expiresAt`.
 * @example
 * const imp = createImpersonation({ audit, notifications });
 * const session = await runAsSystem({ actor: support, reason: 'Ticket #123' }, audit, () => imp.start({ support, tenantId: 'acme', target: { id: 'u42', roles: ['USER'] }, reason: 'Ticket #123: invoice totals wrong' }));
 * await imp.run(session, () => loadDashboard()); // requireTenant().impersonator is the support user
 */
export function createImpersonation(options: ImpersonationOptions): Impersonation {
  requireOptionsObject(options, 'impersonation options');
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const supportRoles = parseInput(
    z.array(RoleSchema),
    options.supportRoles ?? [Roles.SUPER_ADMIN],
    'support roles',
  );
  const permission = options.permission ?? 'tenant:impersonate';
  const maxDurationMs = parseInput(
    z.number().int().min(1000),
    options.maxDurationMs ?? 3_600_000,
    'maxDurationMs',
  );
  const onNotifyFailure = options.onNotifyFailure ?? 'fail-closed';
  const newId = createUuidV7Generator(clock);
  // Ended sessions (id -> expiry), forgotten once expired since expiry alone refuses them then.
  const ended = new Map<string, number>();
  const forgetExpired = (now: number): void => {
    for (const [id, exp] of ended) if (exp <= now) ended.delete(id);
  };

  const mayImpersonate = (a: Actor): boolean =>
    a.roles.some((r) => supportRoles.includes(r)) || (options.accessPolicy?.can(a, permission) ?? false);

  const event = (
    s: ImpersonationSession,
    action: string,
    outcome: AuditPortEvent['outcome'],
  ): AuditPortEvent => ({
    tenantId: s.tenantId,
    actor: s.target,
    impersonator: s.support,
    action,
    outcome,
    occurredAt: clock.now(),
    targets: [
      { type: 'user', id: s.target.id },
      { type: 'impersonation', id: s.id },
    ],
    metadata: {
      sessionId: s.id,
      supportUserId: s.support.id,
      targetUserId: s.target.id,
      reason: s.reason,
      expiresAt: s.expiresAt.toISOString(),
    },
  });

  const notify = (s: ImpersonationSession, kind: string) =>
    options.notifications.notify({
      tenantId: s.tenantId,
      kind,
      data: {
        sessionId: s.id,
        supportUserId: s.support.id,
        supportDisplayName: s.support.displayName ?? null,
        targetUserId: s.target.id,
        reason: s.reason,
        startedAt: s.startedAt.toISOString(),
        expiresAt: s.expiresAt.toISOString(),
      },
    });

  const recordOrFail = async (e: AuditPortEvent): Promise<void> => {
    try {
      await options.audit.record(e);
    } catch (cause) {
      throw new ImpersonationError('IMPERSONATION_AUDIT_FAILED', `Audit write for ${e.action} failed`, {
        cause,
        details: { action: e.action, tenantId: e.tenantId },
      });
    }
  };

  const end = async (
    s: ImpersonationSession,
    outcome: AuditPortEvent['outcome'] = 'success',
  ): Promise<void> => {
    if (ended.has(s.id)) return;
    forgetExpired(clock.now().getTime());
    ended.set(s.id, s.expiresAt.getTime());
    await recordOrFail(event(s, 'impersonation.ended', outcome));
    try {
      await notify(s, 'impersonation.ended');
    } catch (error) {
      logger.warn(
        { err: error, sessionId: s.id, tenantId: s.tenantId },
        'impersonation end notification failed',
      );
    }
  };

  const start = async (input: StartImpersonationInput, span: Span): Promise<ImpersonationSession> => {
    const i = parseInput(StartImpersonationSchema, input, 'impersonation');
    resolveTenantId(i.tenantId, 'impersonation');
    span.setAttribute('tenantry.tenant_id', i.tenantId);
    const now = clock.now();
    const session: ImpersonationSession = Object.freeze({
      id: newId(),
      tenantId: i.tenantId,
      support: i.support,
      target: i.target,
      reason: i.reason,
      startedAt: now,
      expiresAt: new Date(now.getTime() + Math.min(i.durationMs ?? 900_000, maxDurationMs)),
    });
    span.setAttribute('tenantry.impersonation.session_id', session.id);
    if (!mayImpersonate(i.support)) {
      // Best effort: the refusal is reported even if this write fails.
      await options.audit.record(event(session, 'impersonation.denied', 'denied')).catch((error: unknown) => {
        logger.error({ err: error, tenantId: i.tenantId }, 'audit of a denied impersonation failed');
      });
      throw new TenantryError('PERMISSION_DENIED', `Missing permission ${permission}`, {
        details: { permission },
      });
    }
    // A support user (by role, or by the permission through the access policy) is never a target: a
    // session as one would let its holder start further sessions under another name.
    if (i.target.id === i.support.id || mayImpersonate(i.target)) {
      throw new ImpersonationError('IMPERSONATION_TARGET_FORBIDDEN', 'This user cannot be impersonated', {
        details: { tenantId: i.tenantId, targetUserId: i.target.id },
      });
    }
    // No session inside a session: the person acting (the outer impersonator) would vanish from the
    // inner session's audit events, which name only its own impersonator.
    if (currentTenantContext()?.impersonator !== undefined) {
      throw new ImpersonationError(
        'IMPERSONATION_TARGET_FORBIDDEN',
        'An impersonation cannot be started while impersonating',
        { details: { tenantId: i.tenantId, targetUserId: i.target.id, nested: true } },
      );
    }
    await recordOrFail(event(session, 'impersonation.started', 'success'));
    try {
      await notify(session, 'impersonation.started');
    } catch (cause) {
      if (onNotifyFailure === 'log') {
        logger.warn(
          { err: cause, sessionId: session.id, tenantId: session.tenantId },
          'impersonation notification failed',
        );
      } else {
        await end(session, 'failure');
        throw new ImpersonationError('IMPERSONATION_NOTIFY_FAILED', 'The tenant could not be notified', {
          cause,
          details: { tenantId: session.tenantId },
        });
      }
    }
    return session;
  };

  return Object.freeze({
    start: (input: StartImpersonationInput) =>
      withSpan('core', 'impersonation.start', {}, (span) => start(input, span)),
    run<R>(session: ImpersonationSession, fn: () => R, requestId?: string): R {
      if (ended.has(session.id) || clock.now().getTime() >= session.expiresAt.getTime()) {
        throw new ImpersonationError(
          'IMPERSONATION_EXPIRED',
          'The impersonation session has expired or ended',
          {
            details: { sessionId: session.id, expiresAt: session.expiresAt.toISOString() },
          },
        );
      }
      return runAsTenant(
        { tenantId: session.tenantId, actor: session.target, impersonator: session.support, requestId },
        fn,
      );
    },
    end: (session: ImpersonationSession) =>
      withSpan(
        'core',
        'impersonation.end',
        { 'tenantry.tenant_id': session.tenantId, 'tenantry.impersonation.session_id': session.id },
        async () => {
          resolveTenantId(session.tenantId, 'impersonation');
          return end(session);
        },
      ),
  });
}
