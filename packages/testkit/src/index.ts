export {
  type BackendKind,
  BACKEND_KINDS,
  URL_ENV,
  PG_DIRECT_URL_ENV,
  backendStatus,
  directPgUrl,
  pgVia,
  requiredBackends,
  resolveBackend,
  type Resolution,
} from './backends.js';
export {
  uniqueId,
  hasBackend,
  skipLabel,
  withDatabase,
  useTestDatabase,
  useRedisPrefix,
  useMongoDatabase,
} from './isolation.js';
export { type BackendCase, type ConformanceSuite, runConformance } from './conformance.js';
export {
  type RunWorkersOptions,
  type RunWorkersResult,
  type WorkerExit,
  runWorkers,
  sourceNodeFlags,
  type StartedChild,
  builtNodeFlags,
  startChild,
  stopChildren,
} from './processes.js';
export { type LocalRedisCluster, startRedisCluster, redisClusterUnavailableReason } from './redis-cluster.js';
export { type SocketWriteLog, recordSocketWrites } from './socket-writes.js';
export { type CountingConfigSource, countingConfigSource } from './config-source.js';
