export { TenancyModule, TENANCY_MODULE_OPTIONS } from './tenancy-module.js';
export { type TenancyModuleOptions, TenancyService } from './tenancy-service.js';
export { TenancyGuard } from './tenancy-guard.js';
export { TenancyInterceptor, FailClosedAuditInterceptor } from './tenancy-interceptor.js';
export { TenancyContextMiddleware } from './context-middleware.js';
export { TenancyExceptionFilter } from './problem-filter.js';
export {
  Roles,
  Segment,
  Public,
  type AuditedOptions,
  Audited,
  CurrentTenant,
  CurrentActor,
  WithTenant,
} from './decorators.js';
export { type TenantryRequestState, tenantryOf } from './request-state.js';
export { HttpErrorCodes, type HttpErrorCode, HttpTenancyError, type ProblemBody } from '@tenantry/http';
