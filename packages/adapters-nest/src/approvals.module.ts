import { ConfigurableModuleBuilder, type DynamicModule, Module } from '@nestjs/common';
import { parseInput } from '@tenantry/core';
import { type ApprovalHttpOptions, createApprovalHttp } from '@tenantry/http';
import { z } from 'zod';
import { APPROVAL_HTTP, ApprovalInterceptor } from './approval.interceptor.js';
import { approvalsController } from './approvals.controller.js';
import { RoutePathSchema } from './validation.js';

/** Options of {@link TenancyApprovalsModule.forRoot}. */
export interface TenancyApprovalsModuleOptions extends ApprovalHttpOptions {
  /**
   * Serve the approval routes (inbox, list, read, approve, reject) under `basePath`. Put `basePath` under
   * an API segment your approvers reach (`/ops` by default holds every tenant role).
   * @default true
   */
  routes?: boolean;
}

/** How the routes are mounted: known when the module is declared, also with `forRootAsync`. */
const ApprovalRoutesSchema = z.object({
  routes: z.boolean().default(true),
  basePath: RoutePathSchema.default('/ops/approvals'),
});
const what = 'TenancyApprovalsModule options';

/** The injection token of the module options (the engine; `routes` and `basePath` are not in it). */
export const TENANCY_APPROVALS_OPTIONS = Symbol.for('tenantry.nest.approvalsOptions');

const built = new ConfigurableModuleBuilder<ApprovalHttpOptions>({
  optionsInjectionToken: TENANCY_APPROVALS_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ routes: true as boolean, basePath: '/ops/approvals' }, (definition, extras) => {
    const mount = parseInput(ApprovalRoutesSchema, extras, what);
    return {
      ...definition,
      global: true,
      controllers: mount.routes ? [approvalsController(mount.basePath.replace(/\/+$/, ''))] : [],
      providers: [
        ...(definition.providers ?? []),
        {
          provide: APPROVAL_HTTP,
          useFactory: (o: ApprovalHttpOptions) =>
            createApprovalHttp({ ...o, basePath: mount.basePath }, what),
          inject: [TENANCY_APPROVALS_OPTIONS],
        },
        ApprovalInterceptor,
      ],
      exports: [APPROVAL_HTTP, ApprovalInterceptor],
    };
  })
  .build();

/**
 * Four-eyes approvals in Nest, over one `@tenantry/approvals` engine: the approval routes under
 * `basePath` (default `/ops/approvals`) and the interceptor behind `@RequiresApproval()`. Global; import
 * it once beside `TenancyModule`. The route logic is `@tenantry/http`'s, shared with the Express adapter.
 * `forRootAsync` takes `routes` and `basePath` beside the factory (they shape the routes, so they are
 * known when the module is declared); the factory returns the engine options, validated when the app
 * starts.
 * @throws `VALIDATION_FAILED` when the engine or `basePath` is malformed
 * @example
 * imports: [TenancyModule.forRoot({ ... }), TenancyApprovalsModule.forRoot({ engine })]
 * TenancyApprovalsModule.forRootAsync({ basePath: '/ops/approvals', inject: [EngineHolder], useFactory: (h: EngineHolder) => ({ engine: h.engine }) })
 * // in a controller:
 * // @Delete('items/:id') @RequiresApproval({ action: 'item.delete', resource: 'item' }) remove() {}
 */
export class TenancyApprovalsModule extends built.ConfigurableModuleClass {
  static override forRoot(options: TenancyApprovalsModuleOptions): DynamicModule {
    createApprovalHttp(options, what);
    return built.ConfigurableModuleClass.forRoot.call(TenancyApprovalsModule, options);
  }
}

Module({})(TenancyApprovalsModule);
