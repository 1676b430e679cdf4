import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { runAsTenant } from '@tenantry/core';
import type { HttpTenancy, RequestIdentity } from '@tenantry/http';
import { headerOf, initState, tenantryOf, viewOf } from './request-state.js';
import { TenancyService } from './tenancy.service.js';
import { checkInjected } from './validation.js';

type Next = (error?: unknown) => void;

/**
 * @internal On the Express platform, after the body parsers: verifies the bearer token and runs the
 * rest of the request (guards, pipes, handler) inside core's `runAsTenant` (AsyncLocalStorage `run`,
 * never `enterWith`). Never throws: a failure (of verification or anything else) is kept for the guard,
 * which throws it unless the route is `@Public()`, so it is answered as problem+json by the filter.
 */
export function enterTenancyContext(
  http: HttpTenancy,
  req: object,
  res: { setHeader(name: string, value: string): unknown },
  next: Next,
): void {
  // The platform provider's first step drew the id (and set the header) before the body parsers ran.
  let state = tenantryOf(req);
  if (!state) {
    state = initState(req, http.requestId(headerOf(req, 'x-request-id')));
    res.setHeader('x-request-id', state.requestId);
  }
  const s = state;
  const enter = (identity: RequestIdentity): void => {
    s.identity = identity;
    const context = http.contextOf(identity, s.requestId);
    if (context) runAsTenant(context, next);
    else next();
  };
  let known: RequestIdentity | undefined;
  try {
    const view = viewOf(req);
    if (http.isPublic(view.path)) {
      next();
      return;
    }
    // A token verified before (the verified-token cache) is answered at once, with no promise.
    known = http.authenticateNow(view);
    if (known === undefined) {
      http.authenticate(view).then(enter, (error: unknown) => {
        s.authError = error;
        next();
      });
      return;
    }
  } catch (error) {
    s.authError = error;
    next();
    return;
  }
  // Outside the try: what the rest of the request throws is not an authentication failure.
  enter(known);
}

/**
 * On the Express platform: verifies the bearer token and runs the rest of the request inside core's
 * `runAsTenant` (see {@link enterTenancyContext}); on Fastify it does nothing (the global interceptor
 * enters the context there). `TenancyModule` applies this step itself, as a plain Express middleware
 * after the body parsers (sparing every request Nest's middleware routing); the class remains for
 * apps that apply it to routes of their own with `consumer.apply()`.
 */
export class TenancyContextMiddleware implements NestMiddleware {
  readonly #express: boolean;
  constructor(
    private readonly tenancy: TenancyService,
    adapterHost: HttpAdapterHost,
  ) {
    checkInjected('TenancyContextMiddleware arguments', { tenancy, adapterHost });
    const getType = (adapterHost.httpAdapter as { getType?: unknown } | undefined)?.getType;
    this.#express = typeof getType === 'function' && adapterHost.httpAdapter.getType() === 'express';
  }

  use(req: object, res: { setHeader(name: string, value: string): unknown }, next: Next): void {
    if (this.#express) enterTenancyContext(this.tenancy.http, req, res, next);
    else next();
  }
}

Injectable()(TenancyContextMiddleware);
Inject(TenancyService)(TenancyContextMiddleware, undefined, 0);
Inject(HttpAdapterHost)(TenancyContextMiddleware, undefined, 1);
