import type {
  InvalidationBus,
  InvalidationListener,
  InvalidationMessage,
} from '../../platform/invalidation-bus.js';

/**
 * An in-process bus: for tests and single-process apps. Delivery is synchronous.
 * @example const bus = new MemoryInvalidationBus(); createTenantDirectory({ store, bus });
 */
export class MemoryInvalidationBus implements InvalidationBus {
  readonly #listeners = new Set<InvalidationListener>();
  readonly #disconnected = new Set<InvalidationListener>();
  /** One process: `publish` calls every listener before it resolves. */
  readonly deliversSynchronously = true;
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
