export {
  ExpressTenancySettingsSchema,
  type TenancyOptions,
  type TenancyMiddleware,
  tenancy,
} from './tenancy.js';
export { type TenantryRequestState, tenantryOf } from './request-state.js';
export { requireRoles, requirePermission, type AuditedOptions, audited } from './guards.js';
export {
  type RedisCallLike,
  LimitSchema,
  RateLimitSettingsSchema,
  type SignInLockoutOptions,
  signInLockout,
} from './rate-limits.js';
export { type TenantJobPayload, withTenantJob } from './tenant-job.js';
export { metricsEndpoint } from './metrics.js';
export {
  type QueueLike,
  type TenantQueue,
  type TenantJobLike,
  tenantQueue,
  tenantProcessor,
} from '@tenantry/http';
export {
  HttpErrorCodes,
  type HttpErrorCode,
  HttpTenancyError,
  type ProblemBody,
  toProblem,
  createTokenVerifier,
  type TokenVerifierOptions,
  type UntrustedClientTenantResolver,
  DEFAULT_SEGMENT_PREFIXES,
  type MetricsEndpointOptions,
  type MetricsSource,
  HttpMetricNames,
} from '@tenantry/http';
