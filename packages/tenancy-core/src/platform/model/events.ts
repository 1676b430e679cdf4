import type { Logger } from '../../kernel/ports/logger.js';
import type { Agreement } from './agreement.js';
import type { SubscriptionStatus } from './subscription.js';
import type { TenantStatus } from './tenant.js';

/** Events emitted by the tenant directory after a write has been committed. */
export type TenancyEvent =
  | { type: 'tenant.created'; tenantId: string; partnerId: string | null; at: Date }
  | {
      type: 'tenant.transitioned';
      tenantId: string;
      from: TenantStatus;
      to: TenantStatus;
      version: number;
      reason?: string;
      at: Date;
    }
  | { type: 'tenant.updated'; tenantId: string; version: number; at: Date }
  | { type: 'partner.created'; partnerId: string; at: Date }
  | { type: 'plan.updated'; planId: string; version: number; at: Date }
  | { type: 'subscription.started'; subscriptionId: string; tenantId: string; planId: string; at: Date }
  | {
      type: 'subscription.transitioned';
      subscriptionId: string;
      tenantId: string;
      from: SubscriptionStatus;
      to: SubscriptionStatus;
      version: number;
      at: Date;
    }
  | {
      type: 'subscription.plan-changed';
      subscriptionId: string;
      tenantId: string;
      from: string;
      to: string;
      at: Date;
    }
  | { type: 'platform-settings.updated'; version: number; at: Date }
  | { type: 'terms.accepted'; agreement: Agreement; at: Date };

/** The `type` of a {@link TenancyEvent}. */
export type TenancyEventType = TenancyEvent['type'];

/** A handler for events of type `T` (`'*'` for all). May be async; its errors are logged, never rethrown. */
export type TenancyEventHandler<T extends TenancyEventType | '*'> = (
  event: T extends '*' ? TenancyEvent : Extract<TenancyEvent, { type: T }>,
) => void | Promise<void>;

/** @internal A small typed emitter: handlers run in subscription order and are awaited. */
export class TenancyEventEmitter {
  readonly #handlers = new Map<string, Set<(e: TenancyEvent) => void | Promise<void>>>();
  constructor(private readonly logger: Logger) {}

  on<T extends TenancyEventType | '*'>(type: T, handler: TenancyEventHandler<T>): () => void {
    const set = this.#handlers.get(type) ?? new Set();
    const h = handler as (e: TenancyEvent) => void | Promise<void>;
    set.add(h);
    this.#handlers.set(type, set);
    return () => {
      set.delete(h);
    };
  }

  async emit(event: TenancyEvent): Promise<void> {
    const handlers = [...(this.#handlers.get(event.type) ?? []), ...(this.#handlers.get('*') ?? [])];
    for (const h of handlers) {
      try {
        await h(event);
      } catch (error) {
        this.logger.error({ err: error, event: event.type }, 'tenancy event handler failed');
      }
    }
  }
}
