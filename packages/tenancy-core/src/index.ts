// @tenantry/core: services, ports, schemas and errors (re-exports only; backends live in the subpaths).
// Kernel: context, identity, errors, validation, tenant resolution, telemetry, ports, ids, roles, keys.
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
} from './kernel/errors.js';
export { ValidationError, parseInput, isStorableString, maskKeyName } from './kernel/validation.js';
export {
  TenantIdSchema,
  type TenantId,
  ActorSchema,
  type Actor,
  type ActorInput,
  TenantContextSchema,
  type TenantContext,
  type TenantContextInput,
} from './kernel/identity.js';
export {
  runAsTenant,
  parseActor,
  currentTenantContext,
  confinedTenantId,
  requireTenant,
  requireTenantId,
  currentSystemScope,
  runAsSystem,
  SystemScopeOptionsSchema,
  type SystemScopeOptions,
  type SystemScope,
  bindToCurrentContext,
  runWithoutContext,
} from './kernel/context.js';
export { resolveTenantId, requireSystemScope } from './kernel/tenant-resolution.js';
export { withSpan, TelemetryAttributes } from './kernel/telemetry.js';
export {
  JobContextSchema,
  type JobContext,
  type JobContextCodec,
  type JobContextCodecOptions,
  createJobContextCodec,
  canonicalJson,
} from './kernel/job-context.js';
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
} from './kernel/roles.js';
export { createTenantKeys, type TenantKeys, type TenantKeysOptions } from './kernel/scoped-keys.js';
export { createUuidV7Generator, uuidv7 } from './kernel/ids.js';
export {
  type AuditPort,
  type AuditPortEvent,
  noopAuditPort,
  MemoryAuditPort,
} from './kernel/ports/audit-port.js';
export { type Clock, systemClock, ManualClock } from './kernel/ports/clock.js';
export { type Logger, type LogFn, type LogEntry, noopLogger, MemoryLogger } from './kernel/ports/logger.js';
export {
  type NotificationPort,
  type TenantNotification,
  noopNotificationPort,
  MemoryNotificationPort,
} from './kernel/ports/notification-port.js';
export { type RandomSource, cryptoRandom } from './kernel/ports/random.js';
export type {
  PgQueryResult,
  PgQueryable,
  PgPoolClientLike,
  PgUnitOfWorkClient,
  PgPoolLike,
  PgExecutor,
  PgTransactionExecutor,
  PgTransactionMode,
  PgClientKind,
  PgTransactor,
  RedisLike,
} from './kernel/drivers.js';
export {
  QuotaNameSchema,
  QuotaLimitSchema,
  QuotaAmountSchema,
  QuotaConsumeRequestSchema,
  type QuotaConsumeRequest,
  type QuotaConsumeResult,
  type QuotaCounterRef,
  type QuotaStore,
} from './platform/quotas/quota-store.js';
export {
  QuotaWindowSchema,
  type QuotaWindow,
  type WindowBounds,
  windowBounds,
} from './platform/quotas/windows.js';
export { type QuotaErrorCode, QuotaError } from './platform/quotas/quota-errors.js';
export {
  QuotaDefinitionSchema,
  type QuotaDefinition,
  ConsumeOptionsSchema,
  type ConsumeOptions,
  RefundOptionsSchema,
  type RefundOptions,
  type QuotasOptions,
  type QuotaState,
  type TryConsumeResult,
  type Quotas,
  createQuotas,
} from './platform/quotas/quotas.js';
export {
  type ImpersonationErrorCode,
  ImpersonationError,
  StartImpersonationSchema,
  type StartImpersonationInput,
  type ImpersonationSession,
  type ImpersonationOptions,
  type Impersonation,
  createImpersonation,
} from './platform/impersonation.js';
export {
  type JsonValue,
  JsonValueSchema,
  ConfigKeySchema,
  ConfigMapSchema,
  type ConfigMap,
  MAX_CONFIG_MAP_BYTES,
} from './platform/model/json.js';
export { type ModelErrorCode, TenancyModelError } from './platform/model/errors.js';
export {
  PartnerIdSchema,
  PartnerKindSchema,
  type PartnerKind,
  NewPartnerSchema,
  type NewPartnerInput,
  PartnerSchema,
  type Partner,
} from './platform/model/partner.js';
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
} from './platform/model/tenant.js';
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
} from './platform/model/plan.js';
export {
  SubscriptionStatusSchema,
  type SubscriptionStatus,
  NewSubscriptionSchema,
  type NewSubscriptionInput,
  SubscriptionSchema,
  type Subscription,
} from './platform/model/subscription.js';
export {
  AgreementDocumentSchema,
  AgreementInputSchema,
  type AgreementInput,
  AgreementSchema,
  type Agreement,
} from './platform/model/agreement.js';
export {
  PlatformSettingsInputSchema,
  type PlatformSettingsInput,
  PlatformSettingsSchema,
  type PlatformSettings,
  defaultPlatformSettings,
} from './platform/model/platform-settings.js';
export {
  TENANT_TRANSITIONS,
  SUBSCRIPTION_TRANSITIONS,
  canTransitionTenant,
  canTransitionSubscription,
  assertTransition,
} from './platform/model/lifecycle.js';
export type { TenancyEvent, TenancyEventType, TenancyEventHandler } from './platform/model/events.js';
export type { TenantStore, TenantFilter } from './platform/stores/tenant-store.js';
export {
  createTenantDirectory,
  type TenantDirectory,
  type TenantDirectoryOptions,
  type SettingsValidator,
  type WriteOptions,
  type TransitionOptions,
} from './platform/tenant-directory.js';
export {
  InvalidationMessageSchema,
  type InvalidationMessage,
  type InvalidationListener,
  type InvalidationBus,
} from './platform/invalidation-bus.js';
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
} from './platform/settings.js';
export {
  type TenantConfig,
  type TenantConfigSource,
  type ConfigReadOptions,
  directConfigSource,
  createTenantConfigCache,
  type TenantConfigCache,
  type TenantConfigCacheOptions,
  type TenantConfigCacheStats,
} from './platform/config-cache.js';
export {
  type GatekeeperCode,
  GatekeeperError,
  GateRequestSchema,
  type GateRequest,
  type GateDecision,
  type TermsRequirement,
  type GatekeeperOptions,
  type Gatekeeper,
  createGatekeeper,
} from './platform/gatekeeper.js';
export { planQuotaLimits } from './platform/quotas/plan-limits.js';
