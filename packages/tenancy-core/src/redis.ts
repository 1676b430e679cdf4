// @tenantry/core/redis: Redis backends (re-exports only).
export {
  RedisQuotaStore,
  RedisQuotaStoreOptionsSchema,
  type RedisQuotaStoreOptions,
} from './backends/quota-redis.js';
