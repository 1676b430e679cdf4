import { MemoryAuditPort, requireTenantId, runAsSystem, runAsTenant } from '@tenantry/core';
import { it, type TestContext } from 'vitest';
import { hasBackend, uniqueId, useMongoDatabase, useRedisPrefix, useTestDatabase } from '@tenantry/testkit';
import type { CounterKey } from '../src/index.js';

/** Per-file isolation for whichever backends are present (each helper registers hooks only if usable). */
export function useBackends(): {
  pgUrl: () => string;
  /** The server's own URL of the same database (differs from `pgUrl` when the suites run through a pooler). */
  pgDirectUrl: () => string;
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
    pgDirectUrl: () => pg?.directUrl() ?? '',
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

/** A fresh, valid tenant id. */
export const freshTenant = (): string => uniqueId('t').replace(/_/g, '-');

/** Run `fn` inside `tenantId`'s context (T1: every sequencer call takes its tenant from there). */
export const asTenant = <R>(tenantId: string, fn: () => R): R =>
  runAsTenant({ tenantId, actor: { id: 'sequencer-test' } }, fn);

/** Run `fn` inside an audited system scope, where a sequencer call may name any tenant. */
export const asSystem = <R>(fn: () => Promise<R>): Promise<R> =>
  runAsSystem(
    { actor: { id: 'sequencer-test', kind: 'service' }, reason: 'sequencer tests' },
    new MemoryAuditPort(),
    fn,
  );

/** The tenant of the current context (inside a {@link tenantIt} test). */
export const currentTenant = (): string => requireTenantId();

/** A unique series key, so that series defined in one test never share a counter. */
export const freshSeriesKey = (): string => uniqueId('s').replace(/_/g, '-');

/** Vitest's `it`, with each test body run inside a fresh tenant's context. */
export const tenantIt = (
  name: string,
  fn: (ctx: TestContext) => Promise<unknown> | unknown,
  timeout?: number,
): void => {
  it(name, (ctx) => asTenant(freshTenant(), async () => void (await fn(ctx))), timeout);
};

/** The `code` a promise rejects with (its message when it has none), or `'ok'` when it resolves. */
export const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

/** The stored `last_value` of the current tenant's counter of a series (text; `undefined` when there is no row). */
export const counterValue = async (
  db: { query<R>(text: string, values: unknown[]): Promise<{ rows: R[] }> },
  seriesKey: string,
): Promise<string | null | undefined> =>
  (
    await db.query<{ last_value: string | null }>(
      'SELECT last_value FROM tenantry_sequencer_counters WHERE tenant = $1 AND series = $2',
      [requireTenantId(), seriesKey],
    )
  ).rows[0]?.last_value;
