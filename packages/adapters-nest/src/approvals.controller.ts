import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, type Type } from '@nestjs/common';
import type { ApprovalHttp } from '@tenantry/http';
import { APPROVAL_HTTP } from './approval.interceptor.js';

/**
 * @internal The approval routes under `basePath`: `GET inbox`, `GET ?resourceType=&resourceId=&status=`,
 * `GET :id`, `POST :id/approve`, `POST :id/reject` (`{ comment? }`, answered 200). Built per base path
 * (Nest reads a controller's path when its class is decorated).
 */
export function approvalsController(basePath: string): Type<unknown> {
  class ApprovalsController {
    constructor(private readonly routes: ApprovalHttp) {}
    inbox(query: unknown): Promise<unknown> {
      return this.routes.inbox(query);
    }
    list(query: unknown): Promise<unknown> {
      return this.routes.list(query);
    }
    get(id: string): Promise<unknown> {
      return this.routes.get(id);
    }
    approve(id: string, body: unknown): Promise<unknown> {
      return this.routes.decide('approve', id, body);
    }
    reject(id: string, body: unknown): Promise<unknown> {
      return this.routes.decide('reject', id, body);
    }
  }
  const proto = ApprovalsController.prototype;
  const method = (name: keyof ApprovalsController, decorators: MethodDecorator[]): void => {
    const desc = Object.getOwnPropertyDescriptor(proto, name) as PropertyDescriptor;
    for (const d of decorators) d(proto, name, desc);
  };
  // Route order matters: `inbox` before `:id`.
  Query()(proto, 'inbox', 0);
  method('inbox', [Get('inbox')]);
  Query()(proto, 'list', 0);
  method('list', [Get()]);
  Param('id')(proto, 'get', 0);
  method('get', [Get(':id')]);
  for (const decision of ['approve', 'reject'] as const) {
    Param('id')(proto, decision, 0);
    Body()(proto, decision, 1);
    method(decision, [Post(`:id/${decision}`), HttpCode(200)]);
  }
  Inject(APPROVAL_HTTP)(ApprovalsController, undefined, 0);
  Controller(basePath.replace(/^\/+/, ''))(ApprovalsController);
  return ApprovalsController;
}
