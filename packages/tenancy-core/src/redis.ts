// @tenantry/core/redis: Redis backends (re-exports only).
export {
  RedisQuotaStore,
  RedisQuotaStoreOptionsSchema,
  type RedisQuotaStoreOptions,
} from './backends/redis/quota-store.js';
export {
  RedisInvalidationBus,
  type RedisInvalidationBusOptions,
  type RedisPublisherLike,
  type RedisSubscriberLike,
} from './backends/redis/invalidation-bus.js';
