import { isTenantryError } from '@tenantry/core';
import { runMigrations } from '@tenantry/core/postgres';
import {
  PostgresCheckpointStore,
  PostgresDataKeyStore,
  cryptoFieldsMigrations,
} from '@tenantry/crypto-fields/postgres';
import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { makeFields } from './helpers.js';

const record = (tenantId: string) => ({
  tenantId,
  keyId: 'dk1',
  purpose: 'encrypt' as const,
  kekId: 'kek1',
  wrappedKey: 'AAAA',
  primary: true,
  createdAt: new Date(),
});

const caught = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

// Issue 11 item 17: the PostgreSQL key store threw raw 42P01 before migration and a raw 54000 for a
// long tenant id. Driver errors are wrapped, the cause kept, the driver's message never in ours.
describe('PostgreSQL key store errors (no database needed)', () => {
  it('a driver error is CRYPTO_KEY_STORE_FAILED with the driver error as cause, never its message', async () => {
    const driverError = Object.assign(
      new Error('index row size 3016 exceeds btree maximum, value: acme-secret'),
      {
        code: '54000',
      },
    );
    const pool = {
      query: async () => Promise.reject(driverError),
      connect: async () => Promise.reject(driverError),
    };
    const store = new PostgresDataKeyStore({ pool: pool as never });
    for (const call of [() => store.get('acme', 'dk1'), () => store.promote(record('acme'))]) {
      const e = await caught(call());
      expect(isTenantryError(e, 'CRYPTO_KEY_STORE_FAILED')).toBe(true);
      expect((e as Error).cause).toBe(driverError);
      expect((e as Error).message).not.toContain('acme-secret');
      expect(JSON.stringify(e)).not.toContain('acme-secret');
    }
  });

  it('an unreachable server is CRYPTO_STORE_UNAVAILABLE (retryable)', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2000 });
    try {
      const e = await caught(new PostgresDataKeyStore({ pool }).get('acme', 'dk1'));
      expect(isTenantryError(e, 'CRYPTO_STORE_UNAVAILABLE')).toBe(true);
      expect((e as { retryable: boolean }).retryable).toBe(true);
    } finally {
      await pool.end();
    }
  });
});

const db = useTestDatabase();

describe.skipIf(!hasBackend('postgres'))(
  `PostgreSQL key store against a server${skipLabel('postgres')}`,
  () => {
    it('before the migration: CRYPTO_NOT_MIGRATED naming what to run; after it the store works', async () => {
      const pool = new pg.Pool({ connectionString: db.url(), max: 2 });
      try {
        const table = `keys_${Date.now()}`;
        const store = new PostgresDataKeyStore({ pool, table });
        const e = await caught(store.get('acme', 'dk1'));
        expect(isTenantryError(e, 'CRYPTO_NOT_MIGRATED')).toBe(true);
        expect((e as Error).message).toContain('cryptoFieldsMigrations');
        expect((e as { cause: { code: string } }).cause.code).toBe('42P01');
        const cps = await caught(
          new PostgresCheckpointStore({ pool, table: `cp_${Date.now()}` }).load('job'),
        );
        expect(isTenantryError(cps, 'CRYPTO_NOT_MIGRATED')).toBe(true);
        // Through the service too: sealing before the migration is a typed error, not 42P01.
        const { fields } = makeFields({ store });
        const { runAsSystem, MemoryAuditPort } = await import('@tenantry/core');
        const sealed = await runAsSystem(
          { actor: { id: 'ops', kind: 'service' }, reason: 'test' },
          new MemoryAuditPort(),
          () => caught(fields.seal('v', { tenantId: 'acme', collection: 'c', field: 'f' })),
        );
        expect(isTenantryError(sealed, 'CRYPTO_NOT_MIGRATED')).toBe(true);
        await runMigrations(pool, cryptoFieldsMigrations);
        const migrated = new PostgresDataKeyStore({ pool });
        expect(await migrated.get('acme', 'dk1')).toBeNull();
      } finally {
        await pool.end();
      }
    });

    it('a long or hostile tenant id never reaches the server (VALIDATION_FAILED, was a raw 54000)', async () => {
      const pool = new pg.Pool({ connectionString: db.url(), max: 2 });
      try {
        await runMigrations(pool, cryptoFieldsMigrations);
        const store = new PostgresDataKeyStore({ pool });
        for (const t of ['x'.repeat(5000), 'a\u0000b', { $ne: null }]) {
          const e = await caught(store.createPrimaryIfAbsent(record(t as string)));
          expect(isTenantryError(e, 'VALIDATION_FAILED')).toBe(true);
          expect(isTenantryError(await caught(store.list(t as string)), 'VALIDATION_FAILED')).toBe(true);
        }
      } finally {
        await pool.end();
      }
    });
  },
);
