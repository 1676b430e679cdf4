import type { PgQueryable } from '../../kernel/drivers.js';
import {
  type InvalidationBus,
  type InvalidationListener,
  type InvalidationMessage,
  decodeInvalidation,
  encodeInvalidation,
} from '../../platform/invalidation-bus.js';
import { TenancyModelError } from '../../platform/model/errors.js';
import { type Logger, noopLogger } from '../../kernel/ports/logger.js';
import { ValidationError, requireMethods, requireOptionsObject } from '../../kernel/validation.js';

/** A dedicated (not pooled) `pg` Client, as LISTEN needs one session for as long as it listens. */
export interface PgListenClientLike extends PgQueryable {
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
   * Called again after every lost connection. Do not point it at PgBouncer in transaction mode.
   */
  connect: () => Promise<PgListenClientLike>;
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
 * @throws ValidationError `VALIDATION_FAILED` for a channel that is not a plain SQL identifier
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
  const live = new Set<PgListenClientLike>();

  return {
    /**
     * `SELECT 1` on the listening connection. PostgreSQL signals listeners when the notifying
     * transaction commits and sends pending notifications before the reply to the next query, so
     * after this round trip every notification committed before it has been received.
     */
    async sync(): Promise<void> {
      const [c] = live;
      if (!c) throw new TenancyModelError('INVALIDATION_BUS_DOWN', 'LISTEN connection is down');
      await c.query('SELECT 1');
    },
    async publish(message: InvalidationMessage): Promise<void> {
      await options.pool.query('SELECT pg_notify($1, $2)', [channel, encodeInvalidation(message)]);
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

      await connect();
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
