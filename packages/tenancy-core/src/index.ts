export {
  CoreErrorCodes,
  type CoreErrorCode,
  defineErrorCodes,
  errorCodeSpec,
  type ErrorCodeSpec,
  type ErrorCodeTable,
  type HttpStatus,
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
export { resolveTenantId, requireSystemScope } from './tenant-resolution.js';
export { withSpan, TelemetryAttributes } from './telemetry.js';
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
export {
  type JsonValue,
  JsonValueSchema,
  ConfigKeySchema,
  ConfigMapSchema,
  type ConfigMap,
  MAX_CONFIG_MAP_BYTES,
} from './model/json.js';
export { ModelErrorCodes, type ModelErrorCode, TenancyModelError } from './model/errors.js';
export {
  PartnerIdSchema,
  PartnerKindSchema,
  type PartnerKind,
  NewPartnerSchema,
  type NewPartnerInput,
  PartnerSchema,
  type Partner,
} from './model/partner.js';
export {
  TenantStatusSchema,
  type TenantStatus,
  IsolationSchema,
  type Isolation,
  NewTenantSchema,
  type NewTenantInput,
  TenantSchema,
  type Tenant,
  TenantConfigPatchSchema,
  type TenantConfigPatch,
} from './model/tenant.js';
export {
  PlanIdSchema,
  PlanQuotaWindowSchema,
  type PlanQuotaWindow,
  PlanQuotaSchema,
  type PlanQuota,
  PlanInputSchema,
  type PlanInput,
  PlanSchema,
  type Plan,
} from './model/plan.js';
export {
  SubscriptionStatusSchema,
  type SubscriptionStatus,
  NewSubscriptionSchema,
  type NewSubscriptionInput,
  SubscriptionSchema,
  type Subscription,
} from './model/subscription.js';
export {
  AgreementDocumentSchema,
  AgreementInputSchema,
  type AgreementInput,
  AgreementSchema,
  type Agreement,
} from './model/agreement.js';
export {
  PlatformSettingsInputSchema,
  type PlatformSettingsInput,
  PlatformSettingsSchema,
  type PlatformSettings,
  defaultPlatformSettings,
} from './model/platform-settings.js';
export {
  TENANT_TRANSITIONS,
  SUBSCRIPTION_TRANSITIONS,
  canTransitionTenant,
  canTransitionSubscription,
  assertTransition,
} from './model/lifecycle.js';
export type { TenancyEvent, TenancyEventType, TenancyEventHandler } from './model/events.js';
export type { TenantStore, TenantFilter } from './stores/tenant-store.js';
export { MemoryTenantStore } from './backends/tenant-store-memory.js';
export {
  createTenantDirectory,
  type TenantDirectory,
  type TenantDirectoryOptions,
  type SettingsValidator,
  type WriteOptions,
  type TransitionOptions,
} from './tenant-directory.js';
export {
  InvalidationMessageSchema,
  type InvalidationMessage,
  type InvalidationListener,
  type InvalidationBus,
  MemoryInvalidationBus,
} from './invalidation-bus.js';
export {
  defineSettings,
  type SettingDefinition,
  type SettingDefinitions,
  type SettingValues,
  type FlagKey,
  type SettingSource,
  type SettingLayers,
  type ResolvedSettings,
  type SettingsRegistry,
  resolveTenantSettings,
} from './settings.js';
export {
  type TenantConfig,
  type TenantConfigSource,
  type ConfigReadOptions,
  directConfigSource,
  createTenantConfigCache,
  type TenantConfigCache,
  type TenantConfigCacheOptions,
  type TenantConfigCacheStats,
} from './config-cache.js';
export {
  GatekeeperCodes,
  type GatekeeperCode,
  GatekeeperError,
  GateRequestSchema,
  type GateRequest,
  type GateDecision,
  type TermsRequirement,
  type GatekeeperOptions,
  type Gatekeeper,
  createGatekeeper,
} from './gatekeeper.js';
export { planQuotaLimits } from './quotas/plan-limits.js';
