import { type DynamicModule, Module } from '@nestjs/common';
import { ValidationError } from '@tenantry/core';
import { type ApprovalHttpOptions, createApprovalHttp } from '@tenantry/http';
import { APPROVAL_HTTP, ApprovalInterceptor } from './approval.interceptor.js';
import { approvalsController } from './approvals.controller.js';

/** Options of {@link TenancyApprovalsModule.forRoot}. */
export interface TenancyApprovalsModuleOptions extends ApprovalHttpOptions {
  /**
   * Serve the approval routes (inbox, list, read, approve, reject) under `basePath`. Put `basePath` under
   * an API segment your approvers reach (`/ops` by default holds every tenant role).
   * @default true
   */
  routes?: boolean;
}

/**
 * Four-eyes approvals in Nest, over one `@tenantry/approvals` engine: the approval routes under
 * `basePath` (default `/ops/approvals`) and the interceptor behind `@RequiresApproval()`. Global; import
 * it once beside `TenancyModule`. The route logic is `@tenantry/http`'s, shared with the Express adapter.
 * @throws `VALIDATION_FAILED` when the engine or `basePath` is malformed
 * @example
 * imports: [TenancyModule.forRoot({ ... }), TenancyApprovalsModule.forRoot({ engine })]
 * // in a controller:
 * // @Delete('items/:id') @RequiresApproval({ action: 'item.delete', resource: 'item' }) remove() {}
 */
export class TenancyApprovalsModule {
  static forRoot(options: TenancyApprovalsModuleOptions): DynamicModule {
    const what = 'TenancyApprovalsModule.forRoot options';
    const routes = createApprovalHttp(options, what);
    if (options.routes !== undefined && typeof options.routes !== 'boolean') {
      throw new ValidationError(what, [{ path: ['routes'], message: 'must be a boolean' }]);
    }
    return {
      module: TenancyApprovalsModule,
      global: true,
      controllers: options.routes === false ? [] : [approvalsController(routes.basePath)],
      providers: [{ provide: APPROVAL_HTTP, useValue: routes }, ApprovalInterceptor],
      exports: [APPROVAL_HTTP, ApprovalInterceptor],
    };
  }
}

Module({})(TenancyApprovalsModule);
