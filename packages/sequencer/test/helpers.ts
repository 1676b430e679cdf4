import { hasBackend, uniqueId, useMongoDatabase, useRedisPrefix, useTestDatabase } from '@tenantry/testkit';
import type { CounterKey } from '../src/index.js';

/** Per-file isolation for whichever backends are present (each helper registers hooks only if usable). */
export function useBackends(): {
  pgUrl: () => string;
  redisUrl: () => string;
  redisPrefix: () => string;
  mongoUrl: () => string;
  mongoDb: () => string;
} {
  const pg = hasBackend('postgres') ? useTestDatabase() : undefined;
  const redis = hasBackend('redis') ? useRedisPrefix() : undefined;
  const mongo = hasBackend('mongo') ? useMongoDatabase() : undefined;
  return {
    pgUrl: () => pg?.url() ?? '',
    redisUrl: () => redis?.url() ?? '',
    redisPrefix: () => (redis?.prefix() ?? 'x:').replace(/:$/, ''),
    mongoUrl: () => mongo?.url() ?? '',
    mongoDb: () => mongo?.name() ?? '',
  };
}

/** A fresh counter key with a unique tenant. */
export const freshKey = (start = 1): CounterKey => ({
  tenant: uniqueId('t').replace(/_/g, '-'),
  series: 'invoice',
  period: '',
  start,
});
