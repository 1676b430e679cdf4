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
 * process, `@tenantry/core/memory`), `PostgresInvalidationBus` (LISTEN/NOTIFY, `@tenantry/core/postgres`),
 * `RedisInvalidationBus` (pub/sub, `@tenantry/core/redis`).
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
  /**
   * `true` when `publish` has delivered to every listener before it resolves (one process, no
   * network): a read that starts after a write completed then always sees it, and the cache's
   * `strict` barrier has nothing to wait for. Absent or `false` for a bus between processes.
   */
  readonly deliversSynchronously?: boolean;
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
