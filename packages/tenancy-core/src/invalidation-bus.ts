import { z } from 'zod';

/** What changed: one tenant, one plan (every tenant on it), or the platform settings (everything). */
export const InvalidationMessageSchema = z.discriminatedUnion('scope', [
  z.object({ scope: z.literal('tenant'), id: z.string().min(1).max(128) }),
  z.object({ scope: z.literal('plan'), id: z.string().min(1).max(128) }),
  z.object({ scope: z.literal('global') }),
]);
/** An invalidation message. */
export type InvalidationMessage = z.infer<typeof InvalidationMessageSchema>;

/** Callbacks of an {@link InvalidationBus} subscription. */
export interface InvalidationListener {
  /** A message from any process (including this one). */
  onMessage(message: InvalidationMessage): void;
  /**
   * The subscription is (re)established: from now on every published message will be delivered.
   * Called once after `subscribe` resolves and again after every reconnect.
   */
  onReady(): void;
  /** The subscription was lost (connection dropped): messages may be missed until `onReady`. */
  onReset(): void;
}

/**
 * Carries cache invalidations between processes. Implementations: `MemoryInvalidationBus` (one
 * process), `createPgInvalidationBus` (LISTEN/NOTIFY, `@tenantry/core/postgres`),
 * `createRedisInvalidationBus` (pub/sub, `@tenantry/core/redis`).
 */
export interface InvalidationBus {
  /** Deliver `message` to every subscriber in every process. */
  publish(message: InvalidationMessage): Promise<void>;
  /** Start receiving; resolves once subscribed (after `onReady`). Returns an unsubscribe function. */
  subscribe(listener: InvalidationListener): Promise<() => Promise<void>>;
  /**
   * A barrier: resolves once every message whose `publish` completed before this call started has
   * been delivered to this process's listeners (one round trip on the subscription's connection).
   * Rejects when the subscription is down. Used by the cache's `strict` consistency.
   */
  sync(): Promise<void>;
}

/** Encode a message for the wire. @internal */
export function encodeInvalidation(message: InvalidationMessage): string {
  return JSON.stringify(message);
}

/** Decode a wire message; `undefined` for anything malformed (ignored, never trusted). @internal */
export function decodeInvalidation(payload: string): InvalidationMessage | undefined {
  try {
    const r = InvalidationMessageSchema.safeParse(JSON.parse(payload));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An in-process bus: for tests and single-process apps. Delivery is synchronous.
 * @example const bus = new MemoryInvalidationBus(); createTenantDirectory({ store, bus });
 */
export class MemoryInvalidationBus implements InvalidationBus {
  readonly #listeners = new Set<InvalidationListener>();
  readonly #disconnected = new Set<InvalidationListener>();
  async publish(message: InvalidationMessage): Promise<void> {
    for (const l of this.#listeners) if (!this.#disconnected.has(l)) l.onMessage(message);
  }
  /** Delivery is synchronous, so there is nothing to wait for. */
  async sync(): Promise<void> {}
  async subscribe(listener: InvalidationListener): Promise<() => Promise<void>> {
    this.#listeners.add(listener);
    listener.onReady();
    return async () => {
      this.#listeners.delete(listener);
    };
  }
  /**
   * Simulate a lost connection: every listener gets `onReset` and misses what is published until
   * `resume()`, which calls `onReady`. For testing how a cache survives missed messages.
   */
  simulateDisconnect(): { resume: () => void } {
    const listeners = [...this.#listeners];
    for (const l of listeners) {
      this.#disconnected.add(l);
      l.onReset();
    }
    return {
      resume: () => {
        for (const l of listeners) {
          this.#disconnected.delete(l);
          l.onReady();
        }
      },
    };
  }
}
