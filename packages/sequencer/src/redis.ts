// @tenantry/sequencer/redis: the Redis lock backend and counter store (re-exports only).
export {
  RedisSequencerBackend,
  RedisSequencerBackendOptionsSchema,
  type RedisSequencerBackendOptions,
} from './backends/redis/backend.js';
