import { AsyncLocalStorage } from 'node:async_hooks';
import type { ApprovalEngine } from '@tenantry/approvals';
import type { PgPoolClientLike, PgPoolLike, PgQueryResult, PgQueryable } from '@tenantry/core';
import type { TenantUnitOfWork } from '@tenantry/core/postgres';

/**
 * Approval transitions in one transaction of the app's, on PGlite and PostgreSQL alike.
 *
 * The approvals engine writes a transition (request row, soft lock, EXECUTED mark and the approved
 * action itself) in a unit of work, and records its audit events through its `AuditPort` *inside*
 * that unit, so a refused audit write undoes the transition. That is a property of how the port is
 * wired, not of the package: a port whose sink takes its own pooled connection needs a second
 * connection while the first holds the transaction, which PGlite (one session, one transaction at a
 * time) can never give. So the app opens the transaction itself, hands it to the engine
 * (`{ transaction }`: the PostgreSQL store then joins it and runs the action under a SAVEPOINT), and
 * keeps it in an async-local scope where the audit events of the transition, and those the action
 * handlers record, are written on that same connection. The transition, the action and their audit
 * events then commit or roll back together; nothing waits for a second connection.
 */
export interface ApprovalTransactions {
  /**
   * The approvals engine `engine` with its decisions (`request`, `approve`, `reject`, `cancel`,
   * `bypass`, `execute`) each in a transaction of the app's, kept in scope; every other method as is.
   * Build `engine` on {@link ApprovalTransactions.scopedPool}. Not wrapped: `sweep` (the app runs no
   * sweeper), which opens the store's own transactions; on PGlite run it inside such a scope too.
   */
  wrap(engine: ApprovalEngine): ApprovalEngine;
  /**
   * The pool for the approval store and the audit sink of the transitions: inside a transition its
   * `query` runs on the transition's connection (the store reads policies before its unit of work),
   * and `connect` hands out that connection, where a sink's own `BEGIN` … `COMMIT` become a SAVEPOINT
   * and its RELEASE (a failed write rolls back to the savepoint and fails the transition, as a refused
   * audit write must); outside a transition, `pool` itself.
   */
  readonly scopedPool: PgPoolLike;
}

const SAVEPOINT = 'invoicing_audit';

/**
 * The connection of a transition, seen by a sink that opens its own transaction: the sink's leading
 * `BEGIN` (alone or first of a multi-statement query, as `PostgresAuditSink` sends it), `COMMIT` and
 * `ROLLBACK` map to a savepoint of the enclosing transaction, and `release` leaves the connection to
 * its owner.
 */
function joinedClient(tx: PgQueryable): PgPoolClientLike {
  const rewrite = (text: string): string => {
    const t = text.trimStart();
    if (/^BEGIN\b/i.test(t)) return `SAVEPOINT ${SAVEPOINT}${t.slice(5)}`;
    if (/^COMMIT\s*;?\s*$/i.test(t)) return `RELEASE SAVEPOINT ${SAVEPOINT}`;
    if (/^ROLLBACK\s*;?\s*$/i.test(t))
      return `ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`;
    return text;
  };
  return {
    query: <R = Record<string, unknown>>(text: string, values?: unknown[]) =>
      tx.query(rewrite(text), values) as unknown as Promise<PgQueryResult<R>>,
    release: () => undefined,
  };
}

/**
 * Build {@link ApprovalTransactions}: each decision is a unit of work of `uow` (the tenant of the
 * context set for its transaction, under row-level security), and outside a decision the store and
 * sink use `pool` (the same tenant pool, acting as the application role).
 */
export function approvalTransactions(uow: TenantUnitOfWork, pool: PgPoolLike): ApprovalTransactions {
  const scope = new AsyncLocalStorage<PgQueryable>();
  // The decisions: each in a transaction the app owns, passed to the engine and kept in scope.
  const inTx =
    <I, O>(call: (input: I, options: { transaction: unknown }) => Promise<O>) =>
    (input: I, options?: { transaction?: unknown }): Promise<O> =>
      options?.transaction !== undefined
        ? call(input, { transaction: options.transaction })
        : uow.run((tx) => scope.run(tx, () => call(input, { transaction: tx })));
  const wrap = (engine: ApprovalEngine): ApprovalEngine => ({
    registerAction: (action, handler) => engine.registerAction(action, handler),
    registerResource: (type, hooks) => engine.registerResource(type, hooks),
    setPolicies: (input) => engine.setPolicies(input),
    getPolicies: (options) => engine.getPolicies(options),
    request: inTx((input: Parameters<ApprovalEngine['request']>[0], o) => engine.request(input, o)),
    approve: inTx((input: Parameters<ApprovalEngine['approve']>[0], o) => engine.approve(input, o)),
    reject: inTx((input: Parameters<ApprovalEngine['reject']>[0], o) => engine.reject(input, o)),
    cancel: inTx((input: Parameters<ApprovalEngine['cancel']>[0], o) => engine.cancel(input, o)),
    bypass: inTx((input: Parameters<ApprovalEngine['bypass']>[0], o) => engine.bypass(input, o)),
    execute: inTx((input: Parameters<ApprovalEngine['execute']>[0], o) => engine.execute(input, o)),
    get: (input) => engine.get(input),
    list: (query) => engine.list(query),
    inbox: (query) => engine.inbox(query),
    sweep: (options) => engine.sweep(options),
  });
  const scopedPool: PgPoolLike = {
    query: <R = Record<string, unknown>>(text: string, values?: unknown[]) => {
      const tx = scope.getStore();
      return (tx ?? pool).query(text, values) as unknown as Promise<PgQueryResult<R>>;
    },
    connect: async () => {
      const tx = scope.getStore();
      return tx ? joinedClient(tx) : pool.connect();
    },
  };
  return { wrap, scopedPool };
}
