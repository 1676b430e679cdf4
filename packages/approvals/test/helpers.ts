import { runMigrations } from '@tenantry/core/postgres';
import { hasBackend, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { approvalsMigrations } from '../src/postgres.js';

/** A fresh PostgreSQL database for the calling test file, migrated; `undefined` url when PostgreSQL is absent. */
export function usePostgres(): { url: () => string; pool: () => pg.Pool } {
  const db = hasBackend('postgres') ? useTestDatabase() : undefined;
  let pool: pg.Pool | undefined;
  return {
    url: () => db?.url() ?? '',
    pool: () => {
      if (!pool) {
        pool = new pg.Pool({ connectionString: db!.url(), max: 6 });
        pool.on('error', () => undefined);
      }
      return pool;
    },
  };
}

/** Migrate the test database and return the pool. */
export async function migrated(pool: pg.Pool): Promise<pg.Pool> {
  await runMigrations(pool, approvalsMigrations);
  return pool;
}
