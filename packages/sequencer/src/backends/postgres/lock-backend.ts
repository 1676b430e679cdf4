import { assertChange, assertCounterKey } from '../../counter-store.js';
import type { PgPoolClientLike, PgPoolLike } from '@tenantry/core';
import {
  type AcquireOptions,
  counterResource,
  type LockBackend,
  type LockLease,
  lockTimeout,
} from '../../lock-backend.js';
import type { CounterKey } from '../../series.js';
import { mapPgError, requirePool } from './errors.js';

/** Options of {@link PostgresLockBackend}. */
export interface PostgresLockBackendOptions {
  /** The user's `pg` Pool; each held lease checks out one connection. Never closed by the backend. */
  pool: PgPoolLike;
}

/**
 * PostgreSQL lock backend: a transaction-scoped advisory lock (`pg_advisory_xact_lock`) held on a
 * dedicated pooled connection inside `BEGIN … COMMIT`, waiting at most `waitMs` (`lock_timeout`). The
 * lock ends with the transaction, so a crashed holder or a dropped connection frees it at once; fencing
 * tokens come from the `tenantry_sequencer_fence` sequence (never rolled back, so always increasing).
 * TTLs do not apply: a lease lives exactly as long as its connection; `renew` checks the connection.
 * @example const lock = new PostgresLockBackend({ pool });
 */
export class PostgresLockBackend implements LockBackend {
  readonly kind = 'postgres-advisory';
  readonly #pool: PgPoolLike;

  /** @param options.pool a `pg` Pool; each held lease occupies one of its connections (not closed by the backend) */
  constructor(options: PostgresLockBackendOptions) {
    this.#pool = requirePool(options, 'PostgresLockBackend', true);
  }

  async acquire(key: CounterKey, options: AcquireOptions): Promise<LockLease> {
    assertCounterKey(key);
    assertChange(options, ['ttlMs', 'waitMs']);
    let client: PgPoolClientLike;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw mapPgError(e, key, options.waitMs);
    }
    // A held lease keeps its connection checked out, idle in a transaction: if the connection dies
    // (a terminated backend, or a pooler's `server conn crashed?`), pg emits 'error' on the client,
    // which would crash the host without a listener. Listen while holding it: the lease is lost.
    let broken: Error | undefined;
    const onError = (error: Error): void => {
      broken = error;
    };
    const events = client as unknown as ClientEvents;
    events.on?.('error', onError);
    const drop = (destroy?: Error | boolean): void => {
      events.removeListener?.('error', onError);
      client.release(destroy ?? broken);
    };
    let fence: number;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ fence: string }>(
        `WITH cfg AS MATERIALIZED (SELECT set_config('lock_timeout', $1, true))
         SELECT nextval('tenantry_sequencer_fence') AS fence
           FROM (SELECT pg_advisory_xact_lock(hashtextextended($2, 0)) FROM cfg) l`,
        [`${Math.max(1, options.waitMs)}ms`, `tenantry:sequencer:${counterResource(key)}`],
      );
      fence = Number(rows[0]?.fence);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      drop();
      const mapped = mapPgError(e, key, options.waitMs);
      throw (mapped as { code?: string }).code === 'SEQUENCER_LOCK_TIMEOUT'
        ? lockTimeout(key, options.waitMs, e)
        : mapped;
    }
    let open = true;
    return Object.freeze({
      fence,
      renew: async () => {
        if (!open || broken) return false;
        try {
          await client.query('SELECT 1');
          return true;
        } catch {
          return false;
        }
      },
      release: async () => {
        if (!open) return;
        open = false;
        try {
          await client.query('COMMIT');
          drop();
        } catch (e) {
          drop(e instanceof Error ? e : true);
        }
      },
    });
  }
}

/** The listener methods of a `pg` client (an EventEmitter), when present. */
interface ClientEvents {
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}
