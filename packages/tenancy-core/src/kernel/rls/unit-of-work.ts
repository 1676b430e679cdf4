import { z } from 'zod';
import { TenantryError } from '../errors.js';
import type { PgPoolClientLike, PgPoolLike } from '../drivers.js';
import { withSpan } from '../telemetry.js';
import { resolveTenantId } from '../tenant-resolution.js';
import { parseInput } from '../validation.js';
import { quoteLiteral } from './sql-quote.js';
import { TenantSettingNameSchema } from './tenant-table-sql.js';

/** Options of {@link createTenantUnitOfWork}. */
export const TenantUnitOfWorkOptionsSchema = z
  .object({
    /** The setting the policies read. @default 'app.tenant_id' */
    setting: TenantSettingNameSchema.default('app.tenant_id'),
    /** @default 'read committed' (the server default) */
    isolation: z.enum(['read committed', 'repeatable read', 'serializable']).default('read committed'),
  })
  .strict();
export type TenantUnitOfWorkOptions = z.input<typeof TenantUnitOfWorkOptionsSchema>;

interface EventedClient {
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/** Options of one unit of work. */
export interface RunOptions {
  /** The tenant, resolved with `resolveTenantId`: the context's when omitted; another tenant only inside `runAsSystem`. */
  tenantId?: string;
  /** Open the transaction `READ ONLY`. @default false */
  readOnly?: boolean;
}

/** Runs callbacks as units of work bound to one tenant. */
export interface TenantUnitOfWork {
  /**
   * Check out a connection, `BEGIN`, set the tenant for this transaction only
   * (`set_config(setting, tenant, true)`), run `fn` with the connection, `COMMIT` (or `ROLLBACK` if
   * `fn` throws) and release it. If `ROLLBACK` itself fails, the connection is destroyed instead of
   * returned to the pool, so no connection ever goes back in an unknown state.
   * @throws TenantryError `TENANT_CONTEXT_MISSING` outside any context, `TENANT_CONTEXT_CONFLICT` naming another tenant
   * @throws ValidationError `VALIDATION_FAILED` on a malformed tenant id
   * @throws TenantryError `UNIT_OF_WORK_ROLLED_BACK` when a statement failed inside `fn` (error caught there) and COMMIT rolled back
   */
  run<R>(fn: (client: PgPoolClientLike) => Promise<R>, options?: RunOptions): Promise<R>;
}

/**
 * Units of work on your `pg` Pool with the tenant set transaction-locally (invariant T3). The tenant
 * never lives in session state, so it cannot leak into the next checkout, and the runner works
 * behind PgBouncer in transaction mode. `BEGIN` and `set_config` go to the server in one round trip
 * (the tenant id is validated — `[A-Za-z0-9._-]` only — and quoted as a literal).
 * @example
 * const uow = createTenantUnitOfWork(pool);
 * const invoices = await runAsTenant(ctx, () => uow.run((db) => db.query('SELECT * FROM invoices')));
 */
export function createTenantUnitOfWork(
  pool: PgPoolLike,
  options: TenantUnitOfWorkOptions = {},
): TenantUnitOfWork {
  const o = parseInput(TenantUnitOfWorkOptionsSchema, options, 'unit of work options');
  const settingLiteral = quoteLiteral(o.setting);
  return Object.freeze({
    async run<R>(fn: (client: PgPoolClientLike) => Promise<R>, runOptions: RunOptions = {}): Promise<R> {
      const tenantId = resolveTenantId(runOptions.tenantId, 'unit of work');
      const mode = `ISOLATION LEVEL ${o.isolation.toUpperCase()}${runOptions.readOnly ? ' READ ONLY' : ''}`;
      return withSpan(
        'core',
        'unit_of_work',
        { 'tenantry.tenant_id': tenantId, 'db.system': 'postgresql', 'tenantry.pg.isolation': o.isolation },
        () => runInTransaction(tenantId, mode, fn),
      );
    },
  });

  async function runInTransaction<R>(
    tenantId: string,
    mode: string,
    fn: (client: PgPoolClientLike) => Promise<R>,
  ): Promise<R> {
    const client = await pool.connect();
    // A connection that dies while checked out emits 'error' on the client (pg removes its pool
    // listener during checkout); listen while we hold it, so the process does not crash and the
    // connection is destroyed instead of returned.
    const events = client as unknown as EventedClient;
    let broken: Error | undefined;
    const onError = (error: Error): void => {
      broken = error;
    };
    events.on?.('error', onError);
    const release = (destroy?: Error): void => {
      events.removeListener?.('error', onError);
      client.release(destroy ?? broken);
    };
    let result: R;
    try {
      await client.query(
        `BEGIN ${mode}; SELECT set_config(${settingLiteral}, ${quoteLiteral(tenantId)}, true)`,
      );
      result = await fn(client);
      const commit = (await client.query('COMMIT')) as { command?: string };
      // COMMIT of a transaction that failed inside `fn` (an error the callback caught) rolls back.
      if (commit.command === 'ROLLBACK') {
        throw new TenantryError(
          'UNIT_OF_WORK_ROLLED_BACK',
          'The transaction failed inside the unit of work and was rolled back on COMMIT',
          { details: { tenantId } },
        );
      }
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        release(rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError)));
        throw error;
      }
      release();
      throw error;
    }
    release();
    return result;
  }
}
