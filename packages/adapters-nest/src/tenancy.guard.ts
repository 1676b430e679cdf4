import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { type RequestIdentity, type RequestView, assertRoles, isMutatingMethod } from '@tenantry/http';
import { piiFieldsOf } from './dto-fields.decorators.js';
import {
  AUDITED_KEY,
  type AuditedOptions,
  PUBLIC_KEY,
  ROLES_KEY,
  SEGMENT_KEY,
} from './tenancy.decorators.js';
import {
  type TenantryRequestState,
  describeTiming,
  headerOf,
  initState,
  rawResponse,
  recordRequest,
  tenantryOf,
  viewOf,
} from './request-state.js';
import { TenancyService } from './tenancy.service.js';
import { checkInjected } from './validation.js';

/**
 * Global guard: request id; unless `@Public()` or under `publicPaths`, the bearer token verified with
 * jose and client-named tenants checked against it; then `@Roles()`, `@Segment()`, the path segments
 * and the gatekeeper. Mutating requests get an audit hook first, so refusals are audited too.
 */
export class TenancyGuard implements CanActivate {
  // Route metadata read once per handler, not per request.
  readonly #routes = new WeakMap<object, RouteMeta>();
  readonly #auditOn: boolean;

  constructor(
    private readonly tenancy: TenancyService,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    checkInjected('TenancyGuard arguments', { tenancy, reflector, adapterHost });
    this.#auditOn = tenancy.auditsRequests;
  }

  #meta(ctx: ExecutionContext): RouteMeta {
    const handler = ctx.getHandler();
    let meta = this.#routes.get(handler);
    if (!meta) {
      const targets = [handler, ctx.getClass()];
      const audited = this.reflector.getAllAndOverride<AuditedOptions | undefined>(AUDITED_KEY, targets);
      const masked = [
        ...piiFieldsOf(audited?.body ?? bodyTypeOf(ctx.getClass(), handler)),
        ...(audited?.maskPaths ?? []),
      ];
      meta = {
        public: this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true,
        audited,
        maskPaths: masked.length > 0 ? masked : undefined,
        roles: this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, targets),
        segment: this.reflector.getAllAndOverride<string | undefined>(SEGMENT_KEY, targets),
      };
      this.#routes.set(handler, meta);
    }
    return meta;
  }

  // Not `async`: on Express the identity is known already, and the admission is often answered at
  // once (no gatekeeper, or one deciding from its config cache): then no promise at all.
  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const http = this.tenancy.http;
    const host = ctx.switchToHttp();
    const req = host.getRequest<object & { params?: Record<string, string> }>();
    const res = host.getResponse<object>();
    const meta = this.#meta(ctx);
    describeTiming(req, undefined);
    // On the Express platform the context middleware has verified the token already (and entered the
    // tenant context); on Fastify the guard does it.
    let state = tenantryOf(req);
    const verified = state !== undefined;
    if (!state) {
      state = initState(req, http.requestId(headerOf(req, 'x-request-id')));
      this.adapterHost.httpAdapter.setHeader(res, 'x-request-id', state.requestId);
    }
    const view = viewOf(req); // after initState: the request's one view
    if (meta.public || http.isPublic(view.path)) return true;
    if (state.authError !== undefined) throw state.authError;
    if (verified && state.identity) return this.#admit(req, res, view, meta, state, state.identity);
    const s = state;
    return http.authenticate(view).then((identity) => this.#admit(req, res, view, meta, s, identity));
  }

  #admit(
    req: object & { params?: Record<string, string> },
    res: object,
    view: RequestView,
    meta: RouteMeta,
    state: TenantryRequestState,
    identity: RequestIdentity,
  ): boolean | Promise<boolean> {
    const http = this.tenancy.http;
    state.identity = identity;
    describeTiming(req, identity.tenantId);
    if (this.#auditOn && isMutatingMethod(view.method)) {
      const audited = meta.audited;
      if (audited?.resource) {
        const id = req.params?.[audited.idParam ?? 'id'];
        state.audit.resource = { type: audited.resource, ...(typeof id === 'string' ? { id } : {}) };
      }
      if (meta.maskPaths) state.audit.maskPaths = meta.maskPaths;
      installAuditOnClose(this.tenancy, req, res, state);
    }
    if (meta.roles) assertRoles(identity.actor, meta.roles);
    if (meta.segment) http.segments.assertActorIn(identity.actor, meta.segment);
    // At once when the gatekeeper can answer from memory (or there is none); else through its promise.
    const now = http.admitNow(identity, view.method, view.path);
    if (now !== undefined) {
      state.admission = now;
      return true;
    }
    return http.admit(identity, view.method, view.path).then((admission) => {
      state.admission = admission;
      return true;
    });
  }
}

interface RouteMeta {
  public: boolean;
  audited: AuditedOptions | undefined;
  maskPaths: readonly string[] | undefined;
  roles: string[] | undefined;
  segment: string | undefined;
}

/** Where Nest keeps a handler's parameter decorators (`ROUTE_ARGS_METADATA`), and `RouteParamtypes.BODY`. */
const ROUTE_ARGS_METADATA = '__routeArguments__';
const BODY_PARAM = 3;
type GetMetadata = (key: unknown, target: object, property?: string | symbol) => unknown;

/** The type of a handler's whole-body `@Body()` parameter, from emitted decorator metadata (if any). */
function bodyTypeOf(controller: object, handler: { name: string }): unknown {
  const get = (Reflect as unknown as { getMetadata?: GetMetadata }).getMetadata;
  if (typeof get !== 'function') return undefined;
  // The method's key (read once per handler): its name, else the prototype property holding it.
  const proto = (controller as { prototype: Record<string, unknown> }).prototype;
  const key =
    proto[handler.name] === handler
      ? handler.name
      : Object.getOwnPropertyNames(proto).find((k) => proto[k] === handler);
  if (key === undefined) return undefined;
  const args = get(ROUTE_ARGS_METADATA, controller, key) as
    | Record<string, { index: number; data?: unknown }>
    | undefined;
  if (!args) return undefined;
  const types = get('design:paramtypes', proto, key);
  if (!Array.isArray(types)) return undefined;
  for (const [key, arg] of Object.entries(args)) {
    if (key.split(':')[0] === String(BODY_PARAM) && arg.data === undefined) return types[arg.index];
  }
  return undefined;
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
