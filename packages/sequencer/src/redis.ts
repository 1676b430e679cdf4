export { RedisSequencerBackend, RedisBackendOptionsSchema } from './backends/redis.js';
