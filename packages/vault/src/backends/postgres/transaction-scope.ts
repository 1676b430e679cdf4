import { type PgPoolClientLike, type PgPoolLike, TenantIdSchema, parseInput } from '@tenantry/core';
import {
  TenantSettingNameSchema,
  assertRlsEnforced,
  isPipelinedClient,
  quoteLiteral,
} from '@tenantry/core/postgres';
import { z } from 'zod';
import { VaultError } from '../../errors.js';
import type { VaultTransactionScope } from '../../module.js';
import { mapPgError } from './errors.js';

/** Options of {@link createPostgresTransactionScope}. */
export const PostgresTransactionScopeOptionsSchema = z
  .object({
    /** The setting your RLS policies read (core's `tenantTableSql`). @default 'app.tenant_id' */
    setting: TenantSettingNameSchema.default('app.tenant_id'),
    /**
     * Refuse a connection whose role bypasses row-level security (superuser, BYPASSRLS), as core's
     * unit of work does (T3). Turn off only for databases without RLS policies.
     * @default true
     */
    requireRls: z.boolean().default(true),
  })
  .strict();
export type PostgresTransactionScopeOptions = z.input<typeof PostgresTransactionScopeOptionsSchema>;

/** The handle PostgreSQL modules get as `context.transaction`: the checked-out node-postgres client. */
export type PostgresTransaction = PgPoolClientLike;

const verified = new WeakSet<object>();
const unusable = new WeakSet<object>();

/**
 * Marks a connection whose protocol state is unknown (a COPY stopped midway): the scope then
 * destroys it instead of sending ROLLBACK on it (the server rolls back when the connection closes).
 * @internal
 */
export function markConnectionUnusable(client: object): void {
  unusable.add(client);
}

/** Clears {@link markConnectionUnusable} once the COPY ended cleanly. @internal */
export function markConnectionUsable(client: object): void {
  unusable.delete(client);
}

const PIPELINE_MESSAGE =
  "The vault's COPY cannot run on a pg pool in pipeline mode: give the vault a separate pool made without { pipeline: true }";

function pipelineRefused(): VaultError {
  return new VaultError('VAULT_CONFIG_INVALID', PIPELINE_MESSAGE, { details: { reason: 'pipeline' } });
}

/** Whether a `pg.Pool` was made with `{ pipeline: true }` (it keeps its options in `options`). */
function isPipelinedPool(pool: unknown): boolean {
  try {
    return (pool as { options?: { pipeline?: unknown } }).options?.pipeline === true;
  } catch {
    return false;
  }
}

/**
 * A {@link VaultTransactionScope} on your node-postgres Pool: each run checks out a connection,
 * `BEGIN`s, sets the tenant for the transaction only (`set_config(setting, tenant, true)`, as core's
 * tenant unit of work does, so RLS policies stay on), runs the modules, and commits or rolls back.
 * Exports run `REPEATABLE READ READ ONLY`, so a snapshot sees one consistent state of every table.
 * COPY needs the real node-postgres client (the `pg` Pool), not a query-builder executor, and a pool
 * without pipeline mode (pg-copy-streams cannot run on a pipelined connection).
 * @throws VaultError `VAULT_CONFIG_INVALID` (`details.reason: 'pipeline'`) for a `pg.Pool` made with
 * `{ pipeline: true }` (here, or on the first run when the pool does not show its options)
 * @example const pgScope = createPostgresTransactionScope(pool);
 */
export function createPostgresTransactionScope(
  pool: PgPoolLike,
  options: PostgresTransactionScopeOptions = {},
): VaultTransactionScope {
  if (typeof pool?.connect !== 'function') {
    throw new VaultError('VAULT_CONFIG_INVALID', 'createPostgresTransactionScope needs a node-postgres Pool');
  }
  if (isPipelinedPool(pool)) throw pipelineRefused();
  const o = parseInput(PostgresTransactionScopeOptionsSchema, options, 'postgres transaction scope options');
  const settingLiteral = quoteLiteral(o.setting);
  return Object.freeze({
    name: 'postgres',
    async run<R>(
      tenantId: string,
      fn: (transaction: unknown) => Promise<R>,
      runOptions: { readOnly?: boolean } = {},
    ): Promise<R> {
      parseInput(TenantIdSchema, tenantId, 'tenant id');
      let client: PgPoolClientLike;
      try {
        client = await pool.connect();
      } catch (error) {
        throw mapPgError(error, 'module');
      }
      if (isPipelinedClient(client)) {
        client.release();
        throw pipelineRefused();
      }
      let destroy: Error | undefined;
      try {
        if (o.requireRls && !verified.has(client)) {
          await assertRlsEnforced(client, { tables: [] });
          verified.add(client);
        }
        const mode = runOptions.readOnly
          ? 'ISOLATION LEVEL REPEATABLE READ READ ONLY'
          : 'ISOLATION LEVEL READ COMMITTED';
        await client.query(
          `BEGIN ${mode}; SELECT set_config(${settingLiteral}, ${quoteLiteral(tenantId)}, true)`,
        );
        let result: R;
        unusable.delete(client);
        try {
          result = await fn(client);
          const commit = (await client.query('COMMIT')) as { command?: string };
          // A statement failed inside a module and its error was caught there: the server rolled the
          // transaction back at COMMIT. Reporting success would claim a restore (or an export) that
          // never happened.
          if (commit.command !== undefined && commit.command !== 'COMMIT') {
            throw new VaultError(
              'VAULT_MODULE_FAILED',
              'A statement failed inside a module (its error was caught there) and the transaction was rolled back at COMMIT',
              { details: { step: 'commit', command: commit.command } },
            );
          }
        } catch (error) {
          if (unusable.has(client)) {
            destroy = new Error('connection left in an unknown state by an interrupted COPY');
            throw error;
          }
          try {
            await client.query('ROLLBACK');
          } catch (rollbackError) {
            destroy = rollbackError instanceof Error ? rollbackError : new Error('rollback failed');
          }
          throw error;
        }
        return result;
      } catch (error) {
        throw mapPgError(error, 'module');
      } finally {
        client.release(destroy);
      }
    },
  });
}
