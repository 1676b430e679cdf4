import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { PgPoolLike } from './drivers.js';
import { TenancyModelError } from '../platform/model/errors.js';
import { parseInput } from './validation.js';

/**
 * One versioned SQL migration of a component. Components (e.g. `core-model`, `core-rls`, or a host's
 * own) number their migrations 1, 2, 3… independently; the pair (component, version) is the key in
 * the `tenantry_core_migrations` table. Shipped migrations are never edited: their SHA-256 is
 * recorded and a changed one is refused (`MIGRATION_CHECKSUM_MISMATCH`).
 */
export const MigrationSchema = z.object({
  component: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a lower-case slug'),
  version: z.number().int().min(1),
  name: z.string().min(1).max(200),
  sql: z.string().min(1),
});
/** A migration. */
export type Migration = z.infer<typeof MigrationSchema>;

/** The table that records applied migrations. */
export const MIGRATIONS_TABLE = 'tenantry_core_migrations';

/** What {@link runMigrations} did. */
export interface MigrationReport {
  applied: Array<{ component: string; version: number; name: string }>;
  alreadyApplied: number;
}

const LOCK_KEY = 7_305_162_211; // pg_advisory_xact_lock key shared by every Tenantry migration run

/**
 * Apply migrations in (component, version) order, each in its own transaction, under a
 * transaction-level advisory lock so concurrent starts (several app instances) apply each migration
 * exactly once. Already-applied migrations are checked against their checksum.
 * Needs a role that may create tables in the current schema (run it with your migration role, not
 * the application role).
 * @throws TenancyModelError `MIGRATION_CHECKSUM_MISMATCH`; ValidationError `VALIDATION_FAILED`
 * @example await runMigrations(pool, [...coreModelMigrations, ...myMigrations]);
 */
export async function runMigrations(
  pool: PgPoolLike,
  migrations: readonly Migration[],
): Promise<MigrationReport> {
  const list = parseInput(z.array(MigrationSchema), migrations, 'migrations');
  const seen = new Set<string>();
  for (const m of list) {
    const key = `${m.component}@${m.version}`;
    if (seen.has(key))
      throw new TenancyModelError('ALREADY_EXISTS', `Duplicate migration ${key}`, { details: { key } });
    seen.add(key);
  }
  list.sort((a, b) =>
    a.component < b.component ? -1 : a.component > b.component ? 1 : a.version - b.version,
  );
  const report: MigrationReport = { applied: [], alreadyApplied: 0 };
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
      component text NOT NULL,
      version integer NOT NULL,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (component, version))`);
    await client.query('COMMIT');
    for (const m of list) {
      const checksum = createHash('sha256').update(m.sql).digest('hex');
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
        const { rows } = await client.query<{ checksum: string }>(
          `SELECT checksum FROM ${MIGRATIONS_TABLE} WHERE component = $1 AND version = $2`,
          [m.component, m.version],
        );
        if (rows[0]) {
          if (rows[0].checksum !== checksum) {
            throw new TenancyModelError(
              'MIGRATION_CHECKSUM_MISMATCH',
              `Migration ${m.component}@${m.version} differs from the one applied`,
              { details: { component: m.component, version: m.version } },
            );
          }
          report.alreadyApplied++;
          await client.query('COMMIT');
          continue;
        }
        await client.query(m.sql);
        await client.query(
          `INSERT INTO ${MIGRATIONS_TABLE} (component, version, name, checksum) VALUES ($1, $2, $3, $4)`,
          [m.component, m.version, m.name, checksum],
        );
        await client.query('COMMIT');
        report.applied.push({ component: m.component, version: m.version, name: m.name });
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }
    return report;
  } catch (error) {
    if (!(error instanceof TenancyModelError)) broken = error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}
