// @tenantry/core/redis: Redis backends (re-exports only).
export {
  RedisQuotaStore,
  RedisQuotaStoreOptionsSchema,
  type RedisQuotaStoreOptions,
} from './backends/quota-redis.js';
export {
  createRedisInvalidationBus,
  type RedisInvalidationBusOptions,
  type RedisPublisherLike,
  type RedisSubscriberLike,
} from './backends/invalidation-bus-redis.js';
