import {
  type InvalidationBus,
  type InvalidationListener,
  type InvalidationMessage,
  decodeInvalidation,
  encodeInvalidation,
} from '../../platform/invalidation-bus.js';
import { ValidationError, requireMethods, requireOptionsObject } from '../../kernel/validation.js';
import { TenancyModelError } from '../../platform/model/errors.js';
import { type Logger, noopLogger } from '../../kernel/ports/logger.js';

/** The publishing side: any ioredis client (or Cluster). */
export interface RedisPublisherLike {
  publish(channel: string, message: string): Promise<number>;
}

/** The subscribing side: a dedicated ioredis connection (it enters subscriber mode). */
export interface RedisSubscriberLike {
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** Allowed in subscriber mode; used as a delivery barrier by `sync()`. */
  ping(): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready' | 'close', listener: () => void): unknown;
  off(event: 'message', listener: (channel: string, message: string) => void): unknown;
  off(event: 'ready' | 'close', listener: () => void): unknown;
}

/** Options of {@link RedisInvalidationBus}. */
export interface RedisInvalidationBusOptions {
  /** Your ioredis client (or Cluster): publishes the invalidations. */
  redis: RedisPublisherLike;
  /** A connection used only for this subscription (e.g. `redis.duplicate()`). */
  subscriber: RedisSubscriberLike;
  /** @default 'tenantry:config' */
  channel?: string;
  /** @default noopLogger */
  logger?: Logger;
}

/**
 * Cache invalidation over Redis pub/sub. When the subscriber's connection closes the listener is told
 * (`onReset`); when ioredis reconnects, the bus subscribes again and only after the server confirmed
 * it reports ready (`onReady`). Works with Redis Cluster (classic pub/sub is broadcast to every node).
 * @example
 * const bus = new RedisInvalidationBus({ redis, subscriber: redis.duplicate() });
 */
export class RedisInvalidationBus implements InvalidationBus {
  readonly kind = 'redis';
  readonly #bus: InvalidationBus;
  constructor(options: RedisInvalidationBusOptions) {
    this.#bus = openRedisBus(options);
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

function openRedisBus(options: RedisInvalidationBusOptions): InvalidationBus {
  requireOptionsObject(options, 'invalidation bus options');
  requireMethods(options.redis, ['publish'], 'invalidation bus options', 'redis');
  requireMethods(options.subscriber, ['subscribe', 'on', 'off'], 'invalidation bus options', 'subscriber');
  if (
    options.channel !== undefined &&
    (typeof options.channel !== 'string' || options.channel.length > 256)
  ) {
    throw new ValidationError('invalidation bus options', [
      { path: ['channel'], message: 'must be a string of up to 256 characters' },
    ]);
  }
  const channel = options.channel ?? 'tenantry:config';
  const logger = options.logger ?? noopLogger;
  const { redis: publisher, subscriber } = options;
  let subscribed = false;
  return {
    /**
     * `PING` on the subscriber connection: Redis writes a published message into every subscriber's
     * output before replying to PUBLISH, and answers commands in order, so after the PONG every
     * message published before the call has been received. Not a barrier on Redis Cluster, where
     * PUBLISH reaches other nodes asynchronously over the cluster bus.
     */
    async sync(): Promise<void> {
      if (!subscribed) throw new TenancyModelError('INVALIDATION_BUS_DOWN', 'Redis subscription is down');
      await subscriber.ping();
    },
    async publish(message: InvalidationMessage): Promise<void> {
      await publisher.publish(channel, encodeInvalidation(message));
    },
    async subscribe(listener: InvalidationListener): Promise<() => Promise<void>> {
      let up = false;
      let closed = false;
      const onMessage = (ch: string, payload: string): void => {
        if (ch !== channel) return;
        const m = decodeInvalidation(payload);
        if (m) listener.onMessage(m);
      };
      const onClose = (): void => {
        if (!up || closed) return;
        up = false;
        subscribed = false;
        logger.warn({ channel }, 'Redis subscription connection closed');
        listener.onReset();
      };
      const onReadyEvent = (): void => {
        if (up || closed) return;
        // Subscribe explicitly and wait for the server's reply: only then are messages guaranteed.
        subscriber.subscribe(channel).then(
          () => {
            if (up || closed) return;
            up = true;
            subscribed = true;
            listener.onReady();
          },
          (error: unknown) => logger.warn({ err: error, channel }, 'Redis re-subscribe failed'),
        );
      };
      subscriber.on('message', onMessage);
      subscriber.on('close', onClose);
      subscriber.on('ready', onReadyEvent);
      await subscriber.subscribe(channel);
      up = true;
      subscribed = true;
      listener.onReady();
      return async () => {
        closed = true;
        subscribed = false;
        subscriber.off('message', onMessage);
        subscriber.off('close', onClose);
        subscriber.off('ready', onReadyEvent);
        await subscriber.unsubscribe(channel).catch(() => undefined);
      };
    },
  };
}
