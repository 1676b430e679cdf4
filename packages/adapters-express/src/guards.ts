import { type AccessPolicy, currentTenantContext } from '@tenantry/core';
import { assertRoles } from '@tenantry/http';
import type { Request, RequestHandler } from 'express';
import { withholdEndUntilAudited } from './audit-step.js';
import { tenantryOf } from './request-state.js';

const actorOf = (req: Request) => tenantryOf(req)?.identity?.actor ?? currentTenantContext()?.actor;

/**
 * Let through only actors holding one of `roles`.
 * @throws `PERMISSION_DENIED` (403) otherwise, also for unauthenticated requests
 * @example app.delete('/back-office/users/:id', requireRoles('TENANT_ADMIN'), removeUser);
 */
export function requireRoles(...roles: string[]): RequestHandler {
  return (req, _res, next) => {
    assertRoles(actorOf(req), roles);
    next();
  };
}

/**
 * Let through only actors whose roles grant `permission` in `policy` (core's `defineAccessPolicy`).
 * @throws `PERMISSION_DENIED` (403) otherwise
 * @example app.post('/ops/invoices/:id/void', requirePermission(policy, 'invoice:void'), voidInvoice);
 */
export function requirePermission(policy: AccessPolicy, permission: string): RequestHandler {
  return (req, _res, next) => {
    policy.assert(actorOf(req) ?? { roles: [] }, permission);
    next();
  };
}

/** Options of {@link audited}. */
export interface AuditedOptions {
  /** The resource type acted on (`invoice`); its id comes from the route parameter `idParam`. */
  resource?: string;
  /** @default 'id' */
  idParam?: string;
  /**
   * Withhold the response until the audit event is written; if the write fails, answer
   * `HTTP_AUDIT_UNAVAILABLE` (503) instead. (Streamed responses whose headers already left cannot be
   * withheld and are audited fail-open.) @default false
   */
  failClosed?: boolean;
}

/**
 * Describe a mutating route's audit event: the resource it acts on and whether it fails closed.
 * Every mutating request is audited without it; this adds detail.
 * @example app.post('/ops/payouts/:id', audited({ resource: 'payout', failClosed: true }), pay);
 */
export function audited(options: AuditedOptions = {}): RequestHandler {
  return (req, res, next) => {
    const state = tenantryOf(req);
    if (state) {
      const id = options.resource ? req.params[options.idParam ?? 'id'] : undefined;
      state.audit = {
        ...(options.resource
          ? { resource: { type: options.resource, ...(typeof id === 'string' ? { id } : {}) } }
          : {}),
        failClosed: options.failClosed === true,
      };
      if (options.failClosed === true) withholdEndUntilAudited(req, res);
    }
    next();
  };
}
