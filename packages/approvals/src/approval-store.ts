import type { PolicySet } from './policy.js';
import type { ApprovalRequest, ApprovalState } from './request.js';

/** What a store can do, declared by the backend and checked by the engine (never guessed). */
export interface ApprovalStoreCapabilities {
  /**
   * The store runs a unit of work in a database transaction whose handle it gives the action handlers,
   * with savepoints; the engine then runs the handler in the transaction that marks the request
   * EXECUTED (exactly-once effect, P5). Otherwise the engine claims execution with a lease and passes
   * an idempotency key (at-least-once call, at-most-once mark).
   */
  readonly transactional: boolean;
  /**
   * `insert()` honours `expectedPolicyVersion`: it writes nothing and returns `{ stalePolicy: true }`
   * when the tenant's latest policy-set version is another one, checked in the same conditional write
   * as the insert. The engine then caches policy sets per tenant (a request still records the version
   * it was created under: a stale cache is refused at the insert, never used). The engine freezes the
   * sets it caches, so `latestPolicySet` must return a copy, not the store's own object. @default false
   */
  readonly policyVersionCheck?: boolean;
}

/** The outcome of {@link ApprovalStoreTx.insert}. */
export type InsertOutcome =
  | { readonly inserted: true }
  | { readonly inserted: false; readonly pending: ApprovalRequest; readonly stalePolicy?: undefined }
  /** The tenant's latest policy set is not `expectedPolicyVersion` (stores with `policyVersionCheck`). */
  | { readonly inserted: false; readonly stalePolicy: true; readonly pending?: undefined };

/** Options of {@link ApprovalStoreTx.insert}. */
export interface InsertOptions {
  /**
   * Insert only while the tenant's latest policy-set version is this one (0: none was ever written).
   * Honoured by stores that declare `capabilities.policyVersionCheck`; the engine passes it only to them.
   */
  readonly expectedPolicyVersion?: number;
}

/** One unit of work on the store. On PostgreSQL it is one transaction; elsewhere each call stands alone. */
export interface ApprovalStoreTx {
  /** What action handlers and lock hooks receive as `transaction`: a `PgQueryable` on PostgreSQL, `undefined` elsewhere. */
  readonly handle: unknown;
  /**
   * Whether the store began this transaction itself (no caller transaction): the engine may then let a
   * failed handler roll the whole unit of work back and record FAILED in a new one, instead of paying
   * for a savepoint.
   */
  readonly ownsTransaction?: boolean;
  /**
   * Insert a new request. When a PENDING request for the same (tenant, action, resource type, resource
   * id) exists, insert nothing and return it (one conditional write: a unique key on pending requests).
   * With `options.expectedPolicyVersion` on a store with `policyVersionCheck`: insert nothing and return
   * `{ stalePolicy: true }` when the tenant's latest policy-set version differs.
   */
  insert(request: ApprovalRequest, options?: InsertOptions): Promise<InsertOutcome>;
  /** The stored request, or `null` (also for another tenant's id). */
  get(tenantId: string, id: string): Promise<ApprovalRequest | null>;
  /**
   * Replace the request when its stored `version` is still `expectedVersion` (a conditional write; the
   * caller sets `next.version = expectedVersion + 1`). Returns whether it was written.
   */
  update(next: ApprovalRequest, expectedVersion: number): Promise<boolean>;
  /**
   * Run `fn` so that every write it (or a handler through `handle`) makes is undone if it throws, while
   * the rest of the unit of work goes on. Only on transactional stores (a SAVEPOINT on PostgreSQL).
   */
  savepoint?<T>(fn: () => Promise<T>): Promise<T>;
}

/** Filters of {@link ApprovalStore.list}; all given filters must match. */
export interface RequestQuery {
  readonly resource?: { readonly type: string; readonly id: string };
  readonly makerId?: string;
  /** Requests this person approved, rejected or bypassed, as themselves or while impersonating someone (`decidersOf`). */
  readonly decidedBy?: string;
  /** Stored approval states (note: a stored PENDING may read as EXPIRED; the engine applies the deadline). */
  readonly approvalStates?: readonly ApprovalState[];
  /**
   * "My inbox": PENDING with a deadline after `now`, at least one of `roles` eligible, not yet decided
   * by `actorId`, and not made by `actorId` unless the request's policy lets the maker approve.
   */
  readonly decidableBy?: { readonly actorId: string; readonly roles: readonly string[]; readonly now: Date };
  /** Only requests with an id below this one (pages run newest first, by UUIDv7 id). */
  readonly beforeId?: string;
  readonly limit: number;
}

/**
 * The storage port of the approval engine: requests and versioned policy sets, every transition a
 * conditional write. Implementations: `MemoryApprovalStore`, `PostgresApprovalStore`,
 * `MongoApprovalStore`; a custom one proves itself with `approvalStoreConformance` from
 * `@tenantry/approvals/testing`.
 */
export interface ApprovalStore {
  readonly capabilities: ApprovalStoreCapabilities;
  /**
   * Run `fn` in one unit of work. On a transactional store: BEGIN … COMMIT (ROLLBACK if `fn` throws),
   * or inside the caller's own transaction when `transaction` is given (then the caller commits).
   */
  unitOfWork<T>(fn: (tx: ApprovalStoreTx) => Promise<T>, transaction?: unknown): Promise<T>;
  /** One request, read outside any unit of work; `null` when absent (also for another tenant's id). */
  get(tenantId: string, id: string): Promise<ApprovalRequest | null>;
  /** Requests of one tenant, newest first. */
  list(tenantId: string, query: RequestQuery): Promise<ApprovalRequest[]>;
  /**
   * Requests whose soft lock the sweeper must release: PENDING past their deadline, or with an unlock
   * still pending. Of one tenant, or of every tenant when `tenantId` is undefined (system scope).
   */
  dueForSweep(now: Date, limit: number, tenantId: string | undefined): Promise<ApprovalRequest[]>;
  /** The latest policy set of a tenant, or `null` when none was ever written. */
  latestPolicySet(tenantId: string): Promise<PolicySet | null>;
  /** Store a new policy set version; `false` when that version exists already (a concurrent change). */
  insertPolicySet(set: PolicySet): Promise<boolean>;
}
