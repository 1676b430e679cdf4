export {
  CoreErrorCodes,
  type CoreErrorCode,
  TenantryError,
  type TenantryErrorOptions,
  isTenantryError,
} from './errors.js';
export { ValidationError, parseInput } from './validation.js';
export {
  TenantIdSchema,
  type TenantId,
  ActorSchema,
  type Actor,
  type ActorInput,
  TenantContextSchema,
  type TenantContext,
  type TenantContextInput,
} from './identity.js';
export {
  runAsTenant,
  currentTenantContext,
  requireTenant,
  requireTenantId,
  currentSystemScope,
  runAsSystem,
  SystemScopeOptionsSchema,
  type SystemScopeOptions,
  type SystemScope,
  bindToCurrentContext,
  runWithoutContext,
} from './context.js';
export {
  JobContextSchema,
  type JobContext,
  type JobContextCodec,
  type JobContextCodecOptions,
  createJobContextCodec,
  canonicalJson,
} from './job-context.js';
export {
  Roles,
  type BuiltInRole,
  RoleSchema,
  PermissionSchema,
  DEFAULT_SEGMENTS,
  AccessPolicyConfigSchema,
  type AccessPolicyConfig,
  type AccessPolicy,
  type HasRoles,
  defineAccessPolicy,
} from './roles.js';
export { createTenantKeys, type TenantKeys, type TenantKeysOptions } from './scoped-keys.js';
export { createUuidV7Generator, uuidv7 } from './ids.js';
export { type AuditPort, type AuditPortEvent, noopAuditPort, MemoryAuditPort } from './ports/audit-port.js';
export { type Clock, systemClock, ManualClock } from './ports/clock.js';
export { type Logger, type LogFn, type LogEntry, noopLogger, MemoryLogger } from './ports/logger.js';
export {
  type NotificationPort,
  type TenantNotification,
  noopNotificationPort,
  MemoryNotificationPort,
} from './ports/notification-port.js';
export { type RandomSource, cryptoRandom } from './ports/random.js';
export type { PgQueryResult, PgQueryable, PgPoolClientLike, PgPoolLike, RedisLike } from './drivers.js';
export {
  QuotaNameSchema,
  QuotaLimitSchema,
  QuotaAmountSchema,
  QuotaConsumeRequestSchema,
  type QuotaConsumeRequest,
  type QuotaConsumeResult,
  type QuotaCounterRef,
  type QuotaStore,
} from './quotas/quota-store.js';
export { QuotaWindowSchema, type QuotaWindow, type WindowBounds, windowBounds } from './quotas/windows.js';
export { QuotaErrorCodes, type QuotaErrorCode, QuotaError } from './quotas/quota-errors.js';
export {
  QuotaDefinitionSchema,
  type QuotaDefinition,
  ConsumeOptionsSchema,
  type ConsumeOptions,
  type QuotasOptions,
  type QuotaState,
  type TryConsumeResult,
  type Quotas,
  createQuotas,
} from './quotas/quotas.js';
export { MemoryQuotaStore } from './backends/quota-memory.js';
export {
  ImpersonationErrorCodes,
  type ImpersonationErrorCode,
  ImpersonationError,
  StartImpersonationSchema,
  type StartImpersonationInput,
  type ImpersonationSession,
  type ImpersonationOptions,
  type Impersonation,
  createImpersonation,
} from './impersonation.js';
