import type { Actor } from '../identity.js';

/** What a component reports to the audit trail. `@tenantry/audit` implements the port; hosts may wire their own. */
export interface AuditPortEvent {
  /** The tenant affected; `null` for platform-level events such as entering a system scope. */
  readonly tenantId: string | null;
  /** Who acted (as seen by the application). */
  readonly actor: Actor;
  /** The support person acting as `actor`, when impersonating. */
  readonly impersonator?: Actor;
  /** What happened, dotted lower-case, e.g. `impersonation.started`. */
  readonly action: string;
  /** What it happened to. */
  readonly targets?: ReadonlyArray<{ readonly type: string; readonly id?: string }>;
  readonly outcome: 'success' | 'failure' | 'denied';
  /** When it happened; the sink stamps the time if absent. */
  readonly occurredAt?: Date;
  /** Small, non-secret context. Sinks mask configured paths before writing. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Request context, when the event comes from a request. */
  readonly request?: { readonly ip?: string; readonly userAgent?: string; readonly requestId?: string };
}

/**
 * The audit trail as seen by other packages. `record` resolves once the event is durably accepted
 * (written, or spooled by a fail-open sink) and rejects otherwise, so callers can fail closed.
 */
export interface AuditPort {
  record(event: AuditPortEvent): Promise<void>;
}

/** An audit port that drops everything. Only for code paths where the host deliberately opted out. */
export const noopAuditPort: AuditPort = Object.freeze({ record: async () => undefined });

/** An in-memory audit port for tests: keeps every event in order. */
export class MemoryAuditPort implements AuditPort {
  readonly events: AuditPortEvent[] = [];
  async record(event: AuditPortEvent): Promise<void> {
    this.events.push(structuredClone(event));
  }
  /** Events with the given action, in order. */
  withAction(action: string): AuditPortEvent[] {
    return this.events.filter((e) => e.action === action);
  }
}
