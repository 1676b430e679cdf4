export { TenancyModule, TENANCY_MODULE_OPTIONS } from './tenancy.module.js';
export { NestHttpSettingsSchema } from './http-platform.provider.js';
export { type TenancyModuleOptions, TenancyService } from './tenancy.service.js';
export { TenancyGuard } from './tenancy.guard.js';
export { TenancyInterceptor, FailClosedAuditInterceptor } from './tenancy.interceptor.js';
export { TenancyContextMiddleware } from './tenancy-context.middleware.js';
export { TenancyExceptionFilter } from './tenancy-exception.filter.js';
export {
  Roles,
  Segment,
  Public,
  type AuditedOptions,
  Audited,
  CurrentTenant,
  CurrentActor,
  WithTenant,
  RequiresApproval,
} from './tenancy.decorators.js';
export {
  type TenancyApprovalsModuleOptions,
  TenancyApprovalsModule,
} from './approvals.module.js';
export {
  type ApprovalRequestContext,
  type RequiresApprovalSpec,
  ApprovalInterceptor,
  APPROVAL_HTTP,
} from './approval.interceptor.js';
export { type TenantryRequestState, tenantryOf } from './request-state.js';
export {
  type QueueLike,
  type TenantQueue,
  type TenantJobLike,
  tenantQueue,
  tenantProcessor,
} from '@tenantry/http';
export { HttpErrorCodes, type HttpErrorCode, HttpTenancyError, type ProblemBody } from '@tenantry/http';
export { Pii, SanitizeHtml, type SanitizeHtmlOptions } from './dto-fields.decorators.js';
export { SanitizeHtmlPipe } from './sanitize-html.pipe.js';
export { SecurityHeadersMiddleware } from './security-headers.middleware.js';
export { type TenancyHealthModuleOptions, TenancyHealthModule } from './health.module.js';
export { type TenancyMetricsModuleOptions, TenancyMetricsModule } from './metrics.module.js';
export {
  type SignInRequest,
  type SignInLockoutSpec,
  SignInLockout,
  SignInLockoutInterceptor,
  SIGN_IN_LOCKOUT,
} from './sign-in-lockout.interceptor.js';
export {
  type TenancySignInLockoutModuleOptions,
  TenancySignInLockoutModule,
  SIGN_IN_LOCKOUT_OPTIONS,
} from './sign-in-lockout.module.js';
