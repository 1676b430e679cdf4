/** A message to the people of a tenant, e.g. "support entered your account". */
export interface TenantNotification {
  readonly tenantId: string;
  /** What happened, dotted lower-case, e.g. `impersonation.started`. */
  readonly kind: string;
  /** Non-secret facts the host renders into an email, an in-app banner or a webhook. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** How Tenantry tells a tenant about things done to its account. The host delivers. */
export interface NotificationPort {
  notify(notification: TenantNotification): Promise<void>;
}

/** Discards notifications. */
export const noopNotificationPort: NotificationPort = Object.freeze({ notify: async () => undefined });

/** Keeps notifications in memory, for tests. */
export class MemoryNotificationPort implements NotificationPort {
  readonly sent: TenantNotification[] = [];
  async notify(notification: TenantNotification): Promise<void> {
    this.sent.push(structuredClone(notification));
  }
}
