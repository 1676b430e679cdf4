import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { runAsTenant } from '@tenantry/core';
import { initState, tenantryOf, timeRequest, viewOf } from './request-state.js';
import { TenancyService } from './tenancy.service.js';
import { checkInjected } from './validation.js';

/**
 * On the Express platform: verifies the bearer token before routing and runs the rest of the request
 * (guards, pipes, handler) inside core's `runAsTenant` (AsyncLocalStorage `run`, never `enterWith`).
 * A failed verification is kept for the guard, which throws it unless the route is `@Public()`.
 * On both platforms it starts timing the request (`http.server.request.duration`); on Fastify it does
 * nothing else (the global interceptor enters the context there).
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

  use(
    req: object,
    res: { setHeader(name: string, value: string): unknown },
    next: (error?: unknown) => void,
  ): void {
    const http = this.tenancy.http;
    timeRequest(http, req, res);
    if (!this.#express) {
      next();
      return;
    }
    const view = viewOf(req);
    // The platform provider's first step drew the id (and set the header) before the body parsers ran.
    let state = tenantryOf(req);
    if (!state) {
      state = initState(req, http.requestId(view.header('x-request-id')));
      res.setHeader('x-request-id', state.requestId);
    }
    if (http.isPublic(view.path)) {
      next();
      return;
    }
    http.authenticate(view).then(
      (identity) => {
        state.identity = identity;
        const context = http.contextOf(identity, state.requestId);
        if (context) runAsTenant(context, () => next());
        else next();
      },
      (error: unknown) => {
        state.authError = error;
        next();
      },
    );
  }
}

Injectable()(TenancyContextMiddleware);
Inject(TenancyService)(TenancyContextMiddleware, undefined, 0);
Inject(HttpAdapterHost)(TenancyContextMiddleware, undefined, 1);
