// No raw driver, zod or type error escapes a public function: each failure is a TenantryError with a code.
import { hasBackend, skipLabel, useRedisPrefix, useTestDatabase } from '@tenantry/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createQuotas, createTenantDirectory, defineAccessPolicy, isTenantryError } from '../src/index.js';
import { PostgresQuotaStore, PostgresTenantStore } from '../src/postgres.js';
import { RedisQuotaStore } from '../src/redis.js';
import { settledCode } from '../src/testing.js';
import { asSystem, asTenant } from './helpers.js';

const settle = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
    return { code: 'resolved' };
  } catch (e) {
    return isTenantryError(e)
      ? { code: e.code, retryable: e.retryable, message: e.message, hasCause: e.cause !== undefined }
      : { code: `untyped: ${String(e)}` };
  }
};

describe('access policies fail with codes, never TypeError or ZodError', () => {
  it('malformed grants are VALIDATION_FAILED; a missing or malformed holder is PERMISSION_DENIED (fail closed)', () => {
    expect(() => defineAccessPolicy({ grants: { MANAGER: 'invoice:*' } } as never)).toThrowError(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => defineAccessPolicy(undefined as never)).toThrowError(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => defineAccessPolicy({ grants: {}, inherits: { A: ['B'], B: ['A'] } })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    const policy = defineAccessPolicy({ grants: { USER: ['invoice:read'] } });
    for (const holder of [undefined, null, {}, { roles: 'USER' }]) {
      expect(() => policy.assert(holder as never, 'invoice:read')).toThrowError(
        expect.objectContaining({ code: 'PERMISSION_DENIED' }),
      );
      expect(policy.can(holder as never, 'invoice:read')).toBe(false);
      expect(policy.inSegment(holder as never, 'system')).toBe(false);
    }
    expect(() => policy.assert({ roles: ['USER'] }, undefined as never)).toThrowError(
      expect.objectContaining({ code: 'PERMISSION_DENIED' }),
    );
    expect(policy.segment('__proto__')).toEqual([]);
  });
});

describe.skipIf(!hasBackend('postgres'))(`PostgreSQL driver errors${skipLabel('postgres')}`, () => {
  const db = useTestDatabase();

  it('before the migrations ran: CORE_NOT_MIGRATED naming what to run, never pg 42P01', async () => {
    const pool = new pg.Pool({ connectionString: db.url(), max: 2 });
    pool.on('error', () => undefined);
    try {
      const directory = createTenantDirectory({ store: new PostgresTenantStore({ pool }) });
      const created = await settle(() =>
        asSystem(() => directory.createTenant({ id: 'acme', name: 'Acme' })),
      );
      expect(created).toMatchObject({ code: 'CORE_NOT_MIGRATED', retryable: false, hasCause: true });
      expect(created.message).toContain('runMigrations(pool, coreModelMigrations)');
      const quotas = createQuotas({
        store: new PostgresQuotaStore({ pool }),
        quotas: { emails: { window: 'day', defaultLimit: 5 } },
      });
      const consumed = await settle(() => asTenant('acme', () => quotas.consume('emails')));
      expect(consumed).toMatchObject({ code: 'CORE_NOT_MIGRATED', hasCause: true });
      expect(consumed.message).toContain('coreQuotaMigrations');
    } finally {
      await pool.end();
    }
  });

  it('an unreachable server: CORE_STORE_UNAVAILABLE, retryable, the driver message only in the cause', async () => {
    const pool = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 2000,
    });
    pool.on('error', () => undefined);
    try {
      const quotas = createQuotas({
        store: new PostgresQuotaStore({ pool }),
        quotas: { emails: { window: 'day', defaultLimit: 5 } },
      });
      const r = await settle(() => asTenant('acme', () => quotas.consume('emails')));
      expect(r).toMatchObject({ code: 'CORE_STORE_UNAVAILABLE', retryable: true, hasCause: true });
      expect(r.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      const store = new PostgresTenantStore({ pool });
      expect(await settledCode(store.getTenant('acme'))).toBe('CORE_STORE_UNAVAILABLE');
    } finally {
      await pool.end();
    }
  });
});

describe.skipIf(!hasBackend('redis'))(`Redis driver errors${skipLabel('redis')}`, () => {
  const redis = useRedisPrefix();

  it('quotas.consume with Redis down: CORE_STORE_UNAVAILABLE, retryable, cause kept, no driver message', async () => {
    const client = new Redis(redis.url(), { maxRetriesPerRequest: 0 });
    const quotas = createQuotas({
      store: new RedisQuotaStore({ redis: client, keyPrefix: `${redis.prefix()}q:` }),
      quotas: { emails: { window: 'day', defaultLimit: 5 } },
    });
    expect((await asTenant('acme', () => quotas.consume('emails'))).used).toBe(1);
    client.disconnect(); // "Connection is closed." from ioredis from now on
    for (const op of [() => quotas.consume('emails'), () => quotas.usage('emails')]) {
      const r = await settle(() => asTenant('acme', op));
      expect(r).toMatchObject({ code: 'CORE_STORE_UNAVAILABLE', retryable: true, hasCause: true });
      expect(r.message).not.toContain('Connection is closed');
    }
  });
});
