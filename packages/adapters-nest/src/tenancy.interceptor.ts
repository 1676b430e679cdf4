import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { runAsTenant } from '@tenantry/core';
import { HttpTenancyError, isMutatingMethod } from '@tenantry/http';
import { Observable, concatMap } from 'rxjs';
import { recordRequest, tenantryOf } from './request-state.js';
import { TenancyService } from './tenancy.service.js';

/** Where `@HttpCode()` keeps its status (`HTTP_CODE_METADATA` of @nestjs/common). */
const HTTP_CODE_METADATA = '__httpCode__';

/**
 * Global interceptor on the Fastify platform: runs pipes and the handler inside core's `runAsTenant`
 * (AsyncLocalStorage `run`, never `enterWith`) for the verified tenant. (Fastify reads the body after
 * middlewares, outside their async context; on Express the context middleware does this instead,
 * sparing every request Nest's interceptor machinery.)
 */
export class TenancyInterceptor implements NestInterceptor {
  constructor(private readonly tenancy: TenancyService) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<object & { method: string }>();
    const state = tenantryOf(req);
    const identity = state?.identity;
    if (!state || !identity) return next.handle();
    const context = this.tenancy.http.contextOf(identity, state.requestId);
    const out = context
      ? new Observable<unknown>((subscriber) =>
          runAsTenant(context, () => next.handle().subscribe(subscriber)),
        )
      : next.handle();
    return out;
  }
}

Injectable()(TenancyInterceptor);
Inject(TenancyService)(TenancyInterceptor, undefined, 0);

/**
 * Per-route interceptor added by `@Audited({ failClosed: true })`: the audit event is written before the
 * response leaves; if that fails the answer is `HTTP_AUDIT_UNAVAILABLE` (503) and the handler's body is
 * never sent.
 */
export class FailClosedAuditInterceptor implements NestInterceptor {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<object & { method: string }>();
    const state = tenantryOf(req);
    if (!state?.identity || !this.tenancy.auditsRequests || !isMutatingMethod(req.method))
      return next.handle();
    // The status Nest will answer with: `@HttpCode()`, else 201 for POST and 200 otherwise.
    const code = this.reflector.get<number | undefined>(HTTP_CODE_METADATA, ctx.getHandler());
    const status = code ?? (req.method === 'POST' ? 201 : 200);
    return next.handle().pipe(
      concatMap(async (value) => {
        state.audit.written = true;
        try {
          await recordRequest(this.tenancy.http, req, state, status);
        } catch (error) {
          throw new HttpTenancyError(
            'HTTP_AUDIT_UNAVAILABLE',
            'The audit trail could not record this request',
            {
              cause: error,
            },
          );
        }
        return value;
      }),
    );
  }
}

Injectable()(FailClosedAuditInterceptor);
Inject(TenancyService)(FailClosedAuditInterceptor, undefined, 0);
Inject(Reflector)(FailClosedAuditInterceptor, undefined, 1);
