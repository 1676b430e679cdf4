import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { assertRoles, isMutatingMethod } from '@tenantry/http';
import { AUDITED_KEY, type AuditedOptions, PUBLIC_KEY, ROLES_KEY, SEGMENT_KEY } from './decorators.js';
import { type TenantryRequestState, initState, rawResponse, recordRequest, viewOf } from './request-state.js';
import { TenancyService } from './tenancy-service.js';

/**
 * Global guard: request id; unless `@Public()` or under `publicPaths`, the bearer token verified with
 * jose and client-named tenants checked against it; then `@Roles()`, `@Segment()`, the path segments
 * and the gatekeeper. Mutating requests get an audit hook first, so refusals are audited too.
 */
export class TenancyGuard implements CanActivate {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const http = this.tenancy.http;
    const req = ctx.switchToHttp().getRequest<object & { params?: Record<string, string> }>();
    const res = ctx.switchToHttp().getResponse<object>();
    const view = viewOf(req);
    const state = initState(req, http.requestId(view.header('x-request-id')));
    this.adapterHost.httpAdapter.setHeader(res, 'x-request-id', state.requestId);
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) || http.isPublic(view.path))
      return true;
    const identity = await http.authenticate(view);
    state.identity = identity;
    if (isMutatingMethod(view.method)) {
      const audited = this.reflector.getAllAndOverride<AuditedOptions | undefined>(AUDITED_KEY, targets);
      if (audited?.resource) {
        const id = req.params?.[audited.idParam ?? 'id'];
        state.audit.resource = { type: audited.resource, ...(typeof id === 'string' ? { id } : {}) };
      }
      installAuditOnClose(this.tenancy, req, res, state);
    }
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, targets);
    if (roles) assertRoles(identity.actor, roles);
    const segment = this.reflector.getAllAndOverride<string | undefined>(SEGMENT_KEY, targets);
    if (segment) http.segments.assertActorIn(identity.actor, segment);
    state.admission = await http.admit(identity, view.method, view.path);
    return true;
  }
}

function installAuditOnClose(
  tenancy: TenancyService,
  req: object,
  res: object,
  state: TenantryRequestState,
): void {
  const raw = rawResponse(res);
  raw.once('close', () => {
    if (state.audit.written) return;
    state.audit.written = true;
    recordRequest(tenancy.http, req, state, raw.statusCode).catch((error: unknown) =>
      tenancy.http.logger.error(
        { requestId: state.requestId, code: (error as { code?: unknown })?.code ?? 'UNEXPECTED' },
        'audit write of a request failed',
      ),
    );
  });
}

// Decorators applied as calls: the sources compile without experimentalDecorators, and the
// injection tokens are explicit, so the built package needs no emitted design-time metadata.
Injectable()(TenancyGuard);
Inject(TenancyService)(TenancyGuard, undefined, 0);
Inject(Reflector)(TenancyGuard, undefined, 1);
Inject(HttpAdapterHost)(TenancyGuard, undefined, 2);
