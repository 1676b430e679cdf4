// @tenantry/nest/throttler: per-IP and per-tenant rate limits with @nestjs/throttler and a Redis store
// (re-exports only). A subpath of its own: its Redis storage loads ioredis (an optional peer) at import.
export {
  TenancyThrottlerSettingsSchema,
  type TenancyThrottlerOptions,
  TenancyThrottlerModule,
  TENANCY_THROTTLER_OPTIONS,
} from './throttler.module.js';
