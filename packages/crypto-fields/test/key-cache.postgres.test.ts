import { ManualClock } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import { type KeyProvider, localKeyProvider } from '@tenantry/crypto-fields';
import { PostgresDataKeyStore, cryptoFieldsMigrations } from '@tenantry/crypto-fields/postgres';
import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { KEK1, ctx, itAsSystem as it, makeFields } from './helpers.js';

// Issue 12 item 1, proven on the PostgreSQL key store: with 10,000 tenants used round-robin, the
// default cache holds them all, so every tenant costs one store read and one unwrap per TTL; before,
// 1,000 entries held ~500 tenants and every seal past that was a store read plus an unwrap.
const TENANTS = 10_000;
const TTL = 300_000;

const db = useTestDatabase();
let pool: pg.Pool | undefined;
let queries = 0;

beforeAll(async () => {
  if (!hasBackend('postgres')) return;
  pool = new pg.Pool({ connectionString: db.url(), max: 8 });
  await runMigrations(pool, cryptoFieldsMigrations);
});
afterAll(async () => {
  await pool?.end();
});

/** The pool as the store sees it, counting every statement (a store read is one statement). */
const countingPool = () => ({
  query: (...args: unknown[]) => {
    queries++;
    return (pool!.query as (...a: unknown[]) => Promise<unknown>)(...args);
  },
  connect: () => pool!.connect(),
});

function countingProvider(): KeyProvider & { unwraps: number } {
  const inner = localKeyProvider({ keys: { kek1: KEK1 }, primary: 'kek1' });
  const p = {
    unwraps: 0,
    name: inner.name,
    primaryKekId: inner.primaryKekId,
    wrap: inner.wrap.bind(inner),
    unwrap: (w: Parameters<KeyProvider['unwrap']>[0], c: Parameters<KeyProvider['unwrap']>[1]) => {
      p.unwraps++;
      return inner.unwrap(w, c);
    },
  };
  return p;
}

describe.skipIf(!hasBackend('postgres'))(
  `10,000 tenants round-robin over the PostgreSQL key store${skipLabel('postgres')}`,
  () => {
    it('the default cache holds them all: one store read and one unwrap per tenant per TTL', async () => {
      const clock = new ManualClock('2026-01-01T00:00:00Z');
      const provider = countingProvider();
      const store = new PostgresDataKeyStore({ pool: countingPool() as never });
      // Default cache bound (10,000 tenants): only the clock is injected.
      const { fields } = makeFields({ store, provider, clock });
      const at = (i: number) => ({ ...ctx, tenantId: `tenant-${i}` });
      const sealed: string[] = new Array(TENANTS);
      // First use creates each tenant's data key (in parallel chunks, as concurrent requests would).
      for (let i = 0; i < TENANTS; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, TENANTS - i) }, async (_, j) => {
            sealed[i + j] = await fields.seal(`secret-${i + j}`, at(i + j));
          }),
        );
      }
      expect(provider.unwraps).toBe(TENANTS);
      expect(fields.keys.cacheStats().tenants).toBe(TENANTS);

      // Three rounds of seal + open for every tenant within the TTL: nothing reaches the store.
      const q0 = queries;
      const u0 = provider.unwraps;
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < TENANTS; i++) {
          const c = await fields.seal(`secret-${i}`, at(i));
          expect(await fields.open(sealed[i]!, at(i))).toBe(`secret-${i}`);
          if (i % 1000 === 0) expect(await fields.open(c, at(i))).toBe(`secret-${i}`);
        }
        clock.advance(TTL / 10);
      }
      expect(queries - q0).toBe(0);
      expect(provider.unwraps - u0).toBe(0);

      // Past the TTL: each tenant is loaded again exactly once (open first, then seal hits).
      clock.advance(TTL);
      const q1 = queries;
      const u1 = provider.unwraps;
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < TENANTS; i++) {
          expect(await fields.open(sealed[i]!, at(i))).toBe(`secret-${i}`);
          await fields.seal(`secret-${i}`, at(i));
        }
      }
      expect(queries - q1).toBe(TENANTS);
      expect(provider.unwraps - u1).toBe(TENANTS);
      const stats = fields.keys.cacheStats();
      expect(stats.tenants).toBe(TENANTS);
      expect(stats.evictions).toBe(TENANTS); // the expired keys, each counted once
    }, 240_000);
  },
);
