import type { PgQueryable } from '@tenantry/core';
import { invalid, isObject } from './validation.js';

/** A store the readiness probe checks. Each check resolves when the store answers. */
export interface ReadinessChecks {
  /** A `pg` Pool: `select 1`. */
  postgres?: PgQueryable;
  /** An ioredis client: `PING`. */
  redis?: { ping(): Promise<unknown> };
  /** A MongoDB `Db`: `{ ping: 1 }`. */
  mongo?: { command(command: Record<string, unknown>): Promise<unknown> };
  /** Further named checks. */
  custom?: Record<string, () => Promise<unknown>>;
}

/** The readiness answer: `ready` only when every configured check answered in time. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, 'up' | 'down'>>;
}

const within = <T>(p: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    t.unref?.();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });

function checkChecks(checks: unknown, timeoutMs: unknown): asserts checks is ReadinessChecks {
  const what = 'readiness checks';
  if (!isObject(checks)) invalid(what, [], 'must be an object');
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    invalid(what, ['timeoutMs'], 'must be a positive number');
  }
  const member = (key: string, method: string): void => {
    const v = checks[key];
    if (v && typeof (v as Record<string, unknown> | null)?.[method] !== 'function') {
      invalid(what, [key, method], 'must be a function');
    }
  };
  member('postgres', 'query');
  member('redis', 'ping');
  member('mongo', 'command');
  if (checks.custom !== undefined) {
    if (!isObject(checks.custom)) invalid(what, ['custom'], 'must be an object of functions');
    for (const [name, fn] of Object.entries(checks.custom)) {
      if (typeof fn !== 'function') invalid(what, ['custom', name], 'must be a function');
    }
  }
}

/**
 * Check every configured store in parallel, each within `timeoutMs`. Errors are reduced to `down`:
 * nothing of a driver's message reaches the probe's answer.
 */
export async function checkReadiness(checks: ReadinessChecks, timeoutMs = 2_000): Promise<Readiness> {
  checkChecks(checks, timeoutMs);
  const probes: Array<[string, () => Promise<unknown>]> = [];
  if (checks.postgres) {
    const pg = checks.postgres;
    probes.push(['postgres', () => pg.query('select 1')]);
  }
  if (checks.redis) {
    const redis = checks.redis;
    probes.push(['redis', () => redis.ping()]);
  }
  if (checks.mongo) {
    const mongo = checks.mongo;
    probes.push(['mongo', () => mongo.command({ ping: 1 })]);
  }
  for (const [name, fn] of Object.entries(checks.custom ?? {})) probes.push([name, fn]);
  const results = await Promise.all(
    probes.map(async ([name, fn]) => {
      try {
        await within(Promise.resolve().then(fn), timeoutMs);
        return [name, 'up'] as const;
      } catch {
        return [name, 'down'] as const;
      }
    }),
  );
  return { ready: results.every(([, s]) => s === 'up'), checks: Object.fromEntries(results) };
}
