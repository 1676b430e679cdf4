import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { ValidationError } from '@tenantry/core';
import {
  APPROVAL_JUSTIFICATION_HEADER,
  type ApprovalHttp,
  type ApprovalResourceRef,
  approvalJustification,
} from '@tenantry/http';
import { type Observable, from } from 'rxjs';

/** @internal Metadata key of `@RequiresApproval()`. */
export const APPROVAL_KEY = 'tenantry:approval';
/** Injection token of the approval routes' logic (`ApprovalHttp` of `@tenantry/http`), provided by `TenancyApprovalsModule`. */
export const APPROVAL_HTTP = Symbol.for('tenantry.nest.approvalHttp');

/** The request as a `@RequiresApproval()` spec reads it, the same on the Express and Fastify platforms. */
export interface ApprovalRequestContext {
  /** Route parameters (`:id`). */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** The parsed body (`undefined` without one). */
  readonly body: unknown;
  /** One request header (lower-case name). */
  header(name: string): string | undefined;
}

/** How a handler that needs approval describes the action it asks for. */
export interface RequiresApprovalSpec {
  /** The action registered on the engine (`engine.registerAction`), e.g. `item.delete`. */
  action: string;
  /**
   * The resource acted on (soft-locked while pending): a function of the request, or a resource type
   * whose id is the route parameter `idParam`.
   */
  resource: string | ((req: ApprovalRequestContext) => ApprovalResourceRef);
  /** With `resource` as a type: the route parameter holding the id. @default 'id' */
  idParam?: string;
  /** @default the `x-approval-justification` header, else the body's `justification` */
  justification?: (req: ApprovalRequestContext) => string | undefined;
  /** What the action's handler needs to run later (JSON). @default `{ params, body }` of the request */
  payload?: (req: ApprovalRequestContext) => unknown;
}

interface AnyRequest {
  params?: Record<string, string | undefined>;
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
}

function contextOf(request: object): ApprovalRequestContext {
  const req = request as AnyRequest;
  return {
    params: { ...(req.params ?? {}) },
    body: req.body,
    header: (name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    },
  };
}

function resourceOf(spec: RequiresApprovalSpec, req: ApprovalRequestContext): ApprovalResourceRef {
  if (typeof spec.resource === 'function') return spec.resource(req);
  const param = spec.idParam ?? 'id';
  const id = req.params[param];
  if (typeof id !== 'string' || id === '') {
    throw new ValidationError('@RequiresApproval() resource', [
      { path: ['params', param], message: 'the route has no such parameter' },
    ]);
  }
  return { type: spec.resource, id };
}

/**
 * Added by `@RequiresApproval()`: instead of running the handler, creates an approval request through
 * `@tenantry/http`'s approval logic (the same as `@tenantry/express/approvals`) and answers `202` with
 * `Location: {basePath}/{id}` and the request; `200` with the executed request when no policy applies.
 * The handler itself never runs: the engine's registered action does, once, on approval.
 */
export class ApprovalInterceptor implements NestInterceptor {
  constructor(
    private readonly routes: ApprovalHttp,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<RequiresApprovalSpec | undefined>(APPROVAL_KEY, ctx.getHandler());
    if (!spec || ctx.getType() !== 'http') return next.handle();
    const http = ctx.switchToHttp();
    const res = http.getResponse<object>();
    const req = contextOf(http.getRequest<object>());
    const adapter = this.adapterHost.httpAdapter;
    return from(
      (async () => {
        const answer = await this.routes.ask({
          action: spec.action,
          resource: resourceOf(spec, req),
          justification: spec.justification
            ? spec.justification(req)
            : approvalJustification(req.header(APPROVAL_JUSTIFICATION_HEADER), req.body),
          payload: spec.payload ? spec.payload(req) : { params: req.params, body: req.body ?? null },
        });
        adapter.setHeader(res, 'location', answer.location);
        adapter.status(res, answer.status);
        return answer.body;
      })(),
    );
  }
}

Injectable()(ApprovalInterceptor);
Inject(APPROVAL_HTTP)(ApprovalInterceptor, undefined, 0);
Inject(Reflector)(ApprovalInterceptor, undefined, 1);
Inject(HttpAdapterHost)(ApprovalInterceptor, undefined, 2);
