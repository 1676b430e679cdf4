export { HttpErrorCodes, type HttpErrorCode, HttpTenancyError } from './errors.js';
export {
  TokenAlgorithmSchema,
  type TokenAlgorithm,
  TokenKeySchema,
  ClaimNamesSchema,
  TokenVerifierOptionsSchema,
  type TokenVerifierOptions,
  type VerifiedIdentity,
  type TokenVerifier,
  createTokenVerifier,
} from './token-verifier.js';
export {
  TenantHintsSchema,
  type TenantHints,
  type RequestView,
  type NamedTenant,
  namedTenants,
  subdomainTenant,
  assertNamedTenantsAgree,
  type UntrustedClientTenantResolver,
} from './request-tenant.js';
export {
  type ProblemBody,
  type ProblemResponse,
  type ProblemOptions,
  PROBLEM_CONTENT_TYPE,
  statusOfCode,
  toProblem,
} from './problem.js';
export {
  isMutatingMethod,
  type RequestAuditInput,
  MASK,
  DEFAULT_MASKED_KEYS,
  maskBody,
  outcomeOfStatus,
  requestAuditEvent,
} from './audit-record.js';
export {
  DEFAULT_SEGMENT_PREFIXES,
  SegmentPrefixesSchema,
  type SegmentMap,
  createSegmentMap,
  assertRoles,
} from './segments.js';
export {
  type HeaderMiddleware,
  type HeaderTarget,
  type StaticHeaders,
  recordStaticHeaders,
} from './security-headers.js';
export { type ReadinessChecks, type Readiness, checkReadiness } from './health.js';
export { type TenantJobPayload, withTenantJob } from './tenant-job.js';
export {
  HttpTenancySettingsSchema,
  type HttpTenancyOptions,
  type RequestIdentity,
  type AdmittedRequest,
  type HttpTenancy,
  createHttpTenancy,
} from './http-tenancy.js';
export {
  type ApprovalResourceRef,
  type ApprovalEngineLike,
  type ApprovalStatusFilter,
  ApprovalPageQuerySchema,
  ApprovalListQuerySchema,
  ApprovalDecisionBodySchema,
  APPROVAL_JUSTIFICATION_HEADER,
  type ApprovalAsk,
  type ApprovalAnswer,
  type ApprovalHttp,
  type ApprovalHttpOptions,
  approvalJustification,
  createApprovalHttp,
} from './approval-http.js';
export {
  type QueueLike,
  type TenantQueue,
  type TenantJobLike,
  tenantQueue,
  tenantProcessor,
} from './tenant-queue.js';
export { HttpMetricNames, type RequestOutcome, type RequestTimer } from './http-metrics.js';
export {
  type MetricsSource,
  type MetricsEndpointOptions,
  type MetricsEndpoint,
  createMetricsEndpoint,
} from './metrics-endpoint.js';
export {
  type LockoutRedisLike,
  type RedisCallLike,
  type SignInLockoutSettings,
  type SignInAttempt,
  type SignInLockout,
  SignInLockoutSettingsSchema,
  lockoutKey,
  createSignInLockout,
} from './sign-in-lockout.js';
export { clientIpKey } from './client-ip.js';
export { CorsSettingsSchema, type CorsSettings, corsOptionsOf } from './cross-origin.js';
export { DEFAULT_BODY_LIMIT, BodyLimitSchema, bodyLimitBytes } from './body-limit.js';
