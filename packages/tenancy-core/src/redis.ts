export {
  createRedisInvalidationBus,
  type RedisInvalidationBusOptions,
  type RedisPublisherLike,
  type RedisSubscriberLike,
} from './backends/invalidation-bus-redis.js';
