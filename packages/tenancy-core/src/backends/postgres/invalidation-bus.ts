import type { PgQueryable } from '../../kernel/drivers.js';
import {
  type InvalidationBus,
  type InvalidationListener,
  type InvalidationMessage,
  decodeInvalidation,
  encodeInvalidation,
} from '../../platform/invalidation-bus.js';
import { TenancyModelError } from '../../platform/model/errors.js';
import { isTenantryError } from '../../kernel/errors.js';
import { mapPostgresDriverError } from './driver-errors.js';
import { type Logger, noopLogger } from '../../kernel/ports/logger.js';
import { ValidationError, requireMethods, requireOptionsObject } from '../../kernel/validation.js';

/**
 * A dedicated (not pooled) `pg` Client, as LISTEN needs one session for as long as it listens.
 * `processID` is the server process id the connection was given at start (`pg`'s own field): when it
 * differs from `pg_backend_pid()`, something between client and server (a pooler) answered the start.
 */
export interface PgListenClientLike extends PgQueryable {
  readonly processID?: number | null;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  end(): Promise<void>;
}

/** Options of {@link PostgresInvalidationBus}. */
export interface PostgresInvalidationBusOptions {
  /** Where `NOTIFY` is sent: your pool (any connection works; delivery happens at commit). */
  pool: PgQueryable;
  /**
   * Opens a new dedicated connection for LISTEN, e.g. `async () => { const c = new pg.Client(url); await c.connect(); return c; }`.
   * Called again after every lost connection. It must reach the PostgreSQL server directly, not
   * through a connection pooler: a pooler in transaction mode (PgBouncer's `pool_mode = transaction`)
   * hands the session that ran LISTEN to other clients and every notification is lost. A pooled
   * connection is detected (the start-up process id differs from `pg_backend_pid()`) and refused with
   * `INVALIDATION_BUS_POOLED`. `pool` (for NOTIFY) may go through the pooler.
   */
  connect: () => Promise<PgListenClientLike>;
  /**
   * Refuse a LISTEN connection that goes through a pooler (`INVALIDATION_BUS_POOLED`). Set `false`
   * only when `connect` goes through a pooler in session mode (`pool_mode = session`: the client keeps
   * one server session for as long as it is connected); transaction and statement modes lose
   * notifications.
   * @default true
   */
  refusePooler?: boolean;
  /**
   * Keep the default to also receive the notifications that the `core-model` migration's triggers
   * send from inside every write transaction (including writes made with raw SQL).
   * @default 'tenantry_config'
   */
  channel?: string;
  /** How often the listening connection is probed (`SELECT 1`), so a dead one is noticed. @default 10000 */
  healthCheckMs?: number;
  /** Reconnect back-off bounds in ms. @default [100, 5000] */
  reconnectDelayMs?: [number, number];
  /** @default noopLogger */
  logger?: Logger;
}

/**
 * Cache invalidation over PostgreSQL LISTEN/NOTIFY. A lost listening connection is reported to the
 * listener (`onReset`), reconnected with back-off, re-LISTENed, then reported ready (`onReady`).
 * The LISTEN connection (`connect`) must reach the server directly (see the README, "Behind a
 * connection pooler"); `pool`, which only sends NOTIFY, may go through PgBouncer in transaction mode.
 * @throws ValidationError `VALIDATION_FAILED` for a channel that is not a plain SQL identifier
 * `subscribe` fails with `INVALIDATION_BUS_POOLED` when `connect` goes through a pooler (nothing is
 * subscribed), `INVALIDATION_BUS_DOWN` (retryable) when the first LISTEN connection cannot be opened;
 * `publish` with `CORE_STORE_UNAVAILABLE`/`CORE_STORE_FAILED`; `sync` with `INVALIDATION_BUS_DOWN`.
 * @example
 * const bus = new PostgresInvalidationBus({ pool, connect: async () => { const c = new pg.Client(url); await c.connect(); return c; } });
 */
export class PostgresInvalidationBus implements InvalidationBus {
  readonly kind = 'postgres';
  readonly #bus: InvalidationBus;
  constructor(options: PostgresInvalidationBusOptions) {
    this.#bus = openPostgresBus(options);
  }
  publish(message: InvalidationMessage): Promise<void> {
    return this.#bus.publish(message);
  }
  subscribe(listener: InvalidationListener): Promise<() => Promise<void>> {
    return this.#bus.subscribe(listener);
  }
  sync(): Promise<void> {
    return this.#bus.sync();
  }
}

function openPostgresBus(options: PostgresInvalidationBusOptions): InvalidationBus {
  requireOptionsObject(options, 'invalidation bus options');
  requireMethods(options.pool, ['query'], 'invalidation bus options', 'pool');
  if (typeof options.connect !== 'function') {
    throw new ValidationError('invalidation bus options', [
      { path: ['connect'], message: 'must be a function' },
    ]);
  }
  const channel = options.channel ?? 'tenantry_config';
  if (typeof channel !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) {
    throw new ValidationError('invalidation bus options', [
      { path: ['channel'], message: 'must be a lower-case SQL identifier' },
    ]);
  }
  const healthCheckMs = options.healthCheckMs ?? 10_000;
  const [minDelay, maxDelay] = options.reconnectDelayMs ?? [100, 5000];
  const logger = options.logger ?? noopLogger;
  const refusePooler = options.refusePooler ?? true;
  const live = new Set<PgListenClientLike>();

  /** Whether `c` reaches the server through a pooler: its start-up process id is not its session's. */
  const pooled = async (c: PgListenClientLike): Promise<boolean> => {
    const started = c.processID;
    if (typeof started !== 'number') return false; // a client that does not say: trusted as documented
    const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return rows[0]?.pid !== started;
  };

  return {
    /**
     * `SELECT 1` on the listening connection. PostgreSQL signals listeners when the notifying
     * transaction commits and sends pending notifications before the reply to the next query, so
     * after this round trip every notification committed before it has been received.
     */
    async sync(): Promise<void> {
      const [c] = live;
      if (!c) throw new TenancyModelError('INVALIDATION_BUS_DOWN', 'LISTEN connection is down');
      try {
        await c.query('SELECT 1');
      } catch (error) {
        throw new TenancyModelError('INVALIDATION_BUS_DOWN', 'LISTEN connection is down', { cause: error });
      }
    },
    async publish(message: InvalidationMessage): Promise<void> {
      try {
        await options.pool.query('SELECT pg_notify($1, $2)', [channel, encodeInvalidation(message)]);
      } catch (error) {
        throw mapPostgresDriverError(error, 'nothing (NOTIFY needs no table)');
      }
    },

    async subscribe(listener: InvalidationListener): Promise<() => Promise<void>> {
      let client: PgListenClientLike | undefined;
      let closed = false;
      let delay = minDelay;
      let timer: NodeJS.Timeout | undefined;
      let probe: NodeJS.Timeout | undefined;

      const lost = (current: PgListenClientLike, why: unknown): void => {
        if (client !== current || closed) return;
        client = undefined;
        live.delete(current);
        if (probe) clearInterval(probe);
        logger.warn({ err: why, channel }, 'LISTEN connection lost');
        listener.onReset();
        current.end().catch(() => undefined);
        schedule();
      };
      const schedule = (): void => {
        timer = setTimeout(() => {
          connect().catch((error) => {
            logger.warn({ err: error, channel }, 'LISTEN reconnect failed');
            delay = Math.min(delay * 2, maxDelay);
            schedule();
          });
        }, delay);
        timer.unref?.();
      };
      const connect = async (): Promise<void> => {
        const c = await options.connect();
        if (closed) {
          await c.end();
          return;
        }
        c.on('notification', (n) => {
          if (n.channel !== channel || n.payload === undefined) return;
          const m = decodeInvalidation(n.payload);
          if (m) listener.onMessage(m);
        });
        c.on('error', (e) => lost(c, e));
        c.on('end', () => lost(c, new Error('connection ended')));
        // Until `client` is set, `lost` ignores this connection: a refused one just ends.
        if (refusePooler && (await pooled(c))) {
          await c.end().catch(() => undefined);
          throw new TenancyModelError(
            'INVALIDATION_BUS_POOLED',
            "The LISTEN connection goes through a connection pooler, which loses notifications in transaction mode: make the bus's connect() open a direct connection to the PostgreSQL server (or set refusePooler: false for a pooler in session mode)",
          );
        }
        client = c;
        await c.query(`LISTEN ${channel}`);
        live.add(c);
        delay = minDelay;
        probe = setInterval(() => {
          c.query('SELECT 1').catch((e) => lost(c, e));
        }, healthCheckMs);
        probe.unref?.();
        listener.onReady();
      };

      try {
        await connect();
      } catch (error) {
        closed = true;
        if (probe) clearInterval(probe);
        const c = client;
        client = undefined;
        if (c) live.delete(c);
        await c?.end().catch(() => undefined);
        if (isTenantryError(error)) throw error;
        throw new TenancyModelError('INVALIDATION_BUS_DOWN', 'The LISTEN connection could not be opened', {
          cause: error,
        });
      }
      return async () => {
        closed = true;
        if (timer) clearTimeout(timer);
        if (probe) clearInterval(probe);
        const c = client;
        client = undefined;
        if (c) live.delete(c);
        await c?.end().catch(() => undefined);
      };
    },
  };
}
