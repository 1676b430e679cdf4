import {
  type PgPoolLike,
  type PgQueryable,
  TenantryError,
  ValidationError,
  isTenantryError,
} from '@tenantry/core';
import { corkWrites, isPipelinedClient } from '@tenantry/core/postgres';
// The timers module's own function, not the global one: a host test that fakes timers (vitest's
// `vi.useFakeTimers()`, sinon, jest replace `globalThis.setImmediate`) must not hold the corked socket.
import { setImmediate as releaseSoon } from 'node:timers';
import type {
  ApprovalStore,
  ApprovalStoreCapabilities,
  ApprovalStoreTx,
  InsertOutcome,
  RequestQuery,
} from '../../approval-store.js';
import { ApprovalError } from '../../errors.js';
import type { PolicySet } from '../../policy.js';
import { type ApprovalRequest, decidersOf } from '../../request.js';
import {
  REQUEST_COLUMNS,
  type RequestRow,
  decodePolicySet,
  decodeRequest,
  encodeBody,
  requestValues,
} from './row-codec.js';
import { POLICIES_TABLE, REQUESTS_TABLE } from './schema.js';

/** Options of {@link PostgresApprovalStore}. */
export interface PostgresApprovalStoreOptions {
  /** The application's pool (not owned: the store never ends it). Any `PgPoolLike`: a `pg` Pool, or an adapter. */
  pool: PgPoolLike;
}

const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08P01', // PgBouncer's "server conn crashed?": the server session died under the pooler
]);

/**
 * Map driver errors to typed ones: a missing table → `APPROVAL_NOT_MIGRATED`, a lost server →
 * `APPROVAL_STORE_UNAVAILABLE`, a serialization failure or deadlock → `APPROVAL_CONFLICT` (retryable),
 * anything else → `APPROVAL_STORE_FAILED` with the SQLSTATE in `details` and the driver's error as the
 * cause. Tenantry errors (a unit of work that ended) pass as they are.
 */
function mapError(error: unknown): unknown {
  if (isTenantryError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '42P01') {
    return new ApprovalError(
      'APPROVAL_NOT_MIGRATED',
      'The approval tables do not exist: run runMigrations(pool, approvalsMigrations) or migrations/001_tenantry_approvals.sql',
      { cause: error },
    );
  }
  if (typeof code === 'string' && UNAVAILABLE.has(code)) {
    return new ApprovalError('APPROVAL_STORE_UNAVAILABLE', 'PostgreSQL could not be reached', {
      cause: error,
    });
  }
  if (code === '40001' || code === '40P01') {
    return new ApprovalError('APPROVAL_CONFLICT', 'PostgreSQL aborted the transaction; retry', {
      cause: error,
      details: { sqlState: code },
    });
  }
  return new ApprovalError('APPROVAL_STORE_FAILED', 'PostgreSQL refused an approvals statement', {
    cause: error,
    details: typeof code === 'string' ? { sqlState: code } : {},
  });
}

const isConnectionError = (e: unknown): boolean =>
  (e as { code?: string } | null)?.code === 'APPROVAL_STORE_UNAVAILABLE';

async function run<R>(
  db: PgQueryable,
  text: string,
  values: unknown[],
): Promise<{ rows: R[]; rowCount: number | null }> {
  try {
    return await db.query<R>(text, values);
  } catch (error) {
    throw mapError(error);
  }
}

const INSERT = `INSERT INTO ${REQUESTS_TABLE} (${REQUEST_COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
  ON CONFLICT (tenant_id, action, resource_type, resource_id) WHERE approval_state = 'PENDING' DO NOTHING`;
// The same insert, made only while the tenant's latest policy-set version is $18 (0: none): the engine's
// policy cache is checked by the insert itself, at no extra round trip (a primary-key lookup; ORDER BY …
// LIMIT 1 rather than max(), which the planner rewrites into the same scan at a higher planning cost).
const INSERT_CHECKED = `INSERT INTO ${REQUESTS_TABLE} (${REQUEST_COLUMNS})
  SELECT $1::text, $2::uuid, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::timestamptz,
    $10::text[], $11::boolean, $12::text[], $13::boolean, $14::integer, $15::text, $16::timestamptz, $17::timestamptz
  WHERE COALESCE((SELECT version FROM ${POLICIES_TABLE} WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1), 0) = $18::integer
  ON CONFLICT (tenant_id, action, resource_type, resource_id) WHERE approval_state = 'PENDING' DO NOTHING`;
const LATEST_POLICY_VERSION = `SELECT COALESCE(max(version), 0) AS version FROM ${POLICIES_TABLE} WHERE tenant_id = $1`;
const SELECT_ONE = `SELECT body, version FROM ${REQUESTS_TABLE} WHERE tenant_id = $1 AND id = $2`;
const SELECT_PENDING = `SELECT body, version FROM ${REQUESTS_TABLE}
  WHERE tenant_id = $1 AND action = $2 AND resource_type = $3 AND resource_id = $4 AND approval_state = 'PENDING'`;
// One conditional write per transition: it matches only while the version is the one the step read.
const UPDATE = `UPDATE ${REQUESTS_TABLE} SET approval_state = $3, execution_state = $4,
  decided_by = $5, unlock_pending = $6, version = $7, body = $8, updated_at = $9
  WHERE tenant_id = $1 AND id = $2 AND version = $10`;

/**
 * The PostgreSQL store. Transactional: a unit of work is one transaction (the caller's when given), so
 * the request row, the soft lock, the decision, the handler's writes and the EXECUTED mark commit
 * together (P5). Every transition is one conditional `UPDATE … WHERE version = $n`. All SQL goes
 * through `query(text, values)` with transaction-local state only (SAVEPOINTs inside the unit of
 * work): it works behind PgBouncer in transaction mode. Create the tables with
 * `runMigrations(pool, approvalsMigrations)` or `migrations/001_tenantry_approvals.sql`.
 * @example const store = new PostgresApprovalStore({ pool });
 */
/** The store's own transaction, begun lazily with the unit's first statement. */
interface OwnTransaction {
  readonly pipelined: boolean;
  /** Statements sent without waiting for their reply (BEGIN, and pipelined SAVEPOINT/RELEASE): checked before COMMIT. */
  readonly checks: Array<Promise<unknown>>;
  /** Queue BEGIN (once), ahead of whatever the caller sends next. */
  begin(): void;
  /** `BEGIN; <sql>` when BEGIN was not sent yet (and the client takes several statements in one message), else undefined. */
  beginWith(sql: string): string | undefined;
}

// Ids written as literals in the merged BEGIN + SELECT: nothing in them needs quoting.
const SAFE_TENANT_ID = /^[A-Za-z0-9._-]{1,200}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const first = (r: unknown): unknown => (Array.isArray(r) ? r[0] : r);

/**
 * Pipelined: hold the connection's writes until this turn of the event loop has run out of work (the
 * unit's code up to its first wait for I/O), so a statement whose reply nothing awaits (BEGIN,
 * SAVEPOINT, RELEASE) leaves in one socket write with the statement behind it: one segment and one
 * wake-up of the server fewer. `setImmediate` runs after every pending callback and microtask, before
 * the loop waits for I/O, so nothing is ever held across a wait.
 */
function holdUntilIdle(client: unknown): void {
  releaseSoon(corkWrites(client));
}

export class PostgresApprovalStore implements ApprovalStore {
  readonly capabilities: ApprovalStoreCapabilities = Object.freeze({
    transactional: true,
    policyVersionCheck: true,
  });
  readonly #pool: PgPoolLike;

  constructor(options: PostgresApprovalStoreOptions) {
    if (typeof options !== 'object' || options === null || typeof options.pool?.query !== 'function') {
      throw new ValidationError('postgres approval store options', [
        { path: ['pool'], message: 'must be a pg Pool (an object with query())' },
      ]);
    }
    this.#pool = options.pool;
  }

  /**
   * `unawaited`: on a pipelined `pg` connection, statements whose reply nothing needs (SAVEPOINT,
   * RELEASE) are written without waiting and collected here; the unit checks them before COMMIT.
   */
  #tx(db: PgQueryable, ownsTransaction: boolean, unit?: OwnTransaction, handle?: unknown): ApprovalStoreTx {
    const unawaited = unit?.pipelined ? unit.checks : undefined;
    const later = (text: string): Promise<unknown> => {
      holdUntilIdle(db);
      const p = db.query(text, []).then(
        () => undefined,
        (error: unknown) => mapError(error) ?? new Error(`${text} failed`),
      );
      unawaited?.push(p);
      return p;
    };
    return {
      // Whoever gets the handle (a hook, a handler) may run statements on it: BEGIN goes first.
      get handle() {
        unit?.begin();
        return handle ?? db;
      },
      ownsTransaction,
      insert: async (request, options): Promise<InsertOutcome> => {
        unit?.begin();
        const expected = options?.expectedPolicyVersion;
        const res =
          expected === undefined
            ? await run(db, INSERT, requestValues(request))
            : await run(db, INSERT_CHECKED, [...requestValues(request), expected]);
        if (res.rowCount === 1) return { inserted: true };
        const { rows } = await run<RequestRow>(db, SELECT_PENDING, [
          request.tenantId,
          request.action,
          request.resource.type,
          request.resource.id,
        ]);
        if (!rows[0] && expected !== undefined) {
          const latest = await run<{ version: number }>(db, LATEST_POLICY_VERSION, [request.tenantId]);
          if (Number(latest.rows[0]?.version ?? 0) !== expected)
            return { inserted: false, stalePolicy: true };
        }
        if (!rows[0]) {
          throw new ApprovalError('APPROVAL_CONFLICT', 'A pending request was decided meanwhile; retry', {
            details: { action: request.action },
          });
        }
        return { inserted: false, pending: decodeRequest(rows[0]) };
      },
      get: async (tenantId, id) => {
        // The unit's first statement: BEGIN and this SELECT in one simple-protocol message (one round
        // trip, one reply). Only for ids that need no quoting (a tenant id of the context's alphabet, a
        // UUID), written as literals; anything else takes BEGIN and the parameterized SELECT.
        const merged =
          SAFE_TENANT_ID.test(tenantId) && UUID.test(id)
            ? unit?.beginWith(
                `SELECT body, version FROM ${REQUESTS_TABLE} WHERE tenant_id = '${tenantId}' AND id = '${id}'`,
              )
            : undefined;
        if (merged === undefined) {
          unit?.begin();
          return this.#get(db, tenantId, id);
        }
        const res = (await run<RequestRow>(db, merged, [])) as unknown;
        const last = (Array.isArray(res) ? res[res.length - 1] : res) as { rows: RequestRow[] };
        return last.rows[0] ? decodeRequest(last.rows[0]) : null;
      },
      update: async (next, expectedVersion) => {
        unit?.begin();
        const res = await run(db, UPDATE, [
          next.tenantId,
          next.id,
          next.approvalState,
          next.executionState,
          decidersOf(next),
          next.unlockPending,
          next.version,
          encodeBody(next),
          next.updatedAt,
          expectedVersion,
        ]);
        return res.rowCount === 1;
      },
      savepoint: async <T>(fn: () => Promise<T>): Promise<T> => {
        unit?.begin();
        // Pipelined: SAVEPOINT goes out with the handler's first statement, RELEASE with the next
        // statement of the unit; a failure of either surfaces in the statements behind it (the
        // transaction is aborted) and in the check before COMMIT.
        const sent = unawaited !== undefined ? later('SAVEPOINT tenantry_approvals') : undefined;
        if (sent === undefined) await run(db, 'SAVEPOINT tenantry_approvals', []);
        try {
          const result = await fn();
          if (sent !== undefined) {
            const failed = await sent;
            if (failed !== undefined) throw failed;
            void later('RELEASE SAVEPOINT tenantry_approvals');
          } else await run(db, 'RELEASE SAVEPOINT tenantry_approvals', []);
          return result;
        } catch (error) {
          await run(db, 'ROLLBACK TO SAVEPOINT tenantry_approvals', []);
          await run(db, 'RELEASE SAVEPOINT tenantry_approvals', []);
          throw error;
        }
      },
    };
  }

  async #get(db: PgQueryable, tenantId: string, id: string): Promise<ApprovalRequest | null> {
    const { rows } = await run<RequestRow>(db, SELECT_ONE, [tenantId, id]);
    return rows[0] ? decodeRequest(rows[0]) : null;
  }

  async unitOfWork<T>(fn: (tx: ApprovalStoreTx) => Promise<T>, transaction?: unknown): Promise<T> {
    if (transaction !== undefined) return fn(this.#tx(transaction as PgQueryable, false));
    let client: Awaited<ReturnType<PgPoolLike['connect']>>;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw new ApprovalError('APPROVAL_STORE_UNAVAILABLE', 'PostgreSQL could not be reached', {
        cause: error,
      });
    }
    let broken: Error | undefined;
    let ended = false;
    // A connection that dies while checked out (a terminated backend, a pooler's 08P01 `server conn
    // crashed?`) emits 'error' on the client, which would crash the host without a listener.
    const onError = (error: Error): void => {
      broken = error;
    };
    const events = client as unknown as ClientEvents;
    events.on?.('error', onError);
    try {
      // Pipelined `pg` connection (`new pg.Pool({ pipeline: true })`): BEGIN goes out with the first
      // statement of the unit. (BEGIN on an idle connection fails only with the connection itself, and
      // then every statement behind it fails too.)
      //
      // BEGIN is sent with the unit's first statement, not before: a SELECT of the request by id goes
      // in the same message as BEGIN (one round trip fewer, on any `pg` client); any other first use
      // (a write, the handle given to a hook) queues BEGIN in front of it without waiting for its reply.
      // The driver sends queued statements in order, so nothing runs before BEGIN. A unit that sent
      // nothing sends no BEGIN and no COMMIT.
      const pipelined = isPipelinedClient(client);
      // Hooks and handlers get a view of the connection that refuses queries once the unit ended: kept
      // (a closure, a timer), the pooled client would run them in its next holder's transaction (T3).
      const guarded = guardedHandle(client, () => ended);
      const checks: Array<Promise<unknown>> = [];
      let begun = false;
      const merge = (client as { clientKind?: unknown }).clientKind === undefined;
      const unit: OwnTransaction = {
        pipelined,
        checks,
        begin: () => {
          if (begun) return;
          begun = true;
          if (pipelined) holdUntilIdle(client);
          checks.push(
            client.query('BEGIN', []).then(
              () => undefined,
              (error: unknown) => mapError(error) ?? new Error('BEGIN failed'),
            ),
          );
        },
        beginWith: (sql) => {
          if (begun || !merge) return undefined;
          begun = true;
          return `BEGIN; ${sql}`;
        },
      };
      const result = await fn(this.#tx(client, true, unit, guarded));
      for (const failed of await Promise.all(checks)) if (failed !== undefined) throw failed;
      if (!begun) return result;
      if (!merge) {
        // An adapter's executor (Kysely, postgres.js) answers COMMIT without its command tag, so a
        // COMMIT the server answers with ROLLBACK would look like success: ask first (25P02 when a
        // statement failed in the transaction and its error was caught).
        try {
          await client.query('SELECT 1', []);
        } catch (error) {
          if ((error as { code?: unknown } | null)?.code !== '25P02') throw mapError(error);
          throw new ApprovalError('APPROVAL_CONFLICT', 'The transaction was rolled back at COMMIT; retry', {
            details: { command: 'ROLLBACK' },
            cause: error,
          });
        }
      }
      const commit = first(await run(client, 'COMMIT', [])) as { command?: string };
      // COMMIT of a transaction in which a statement failed (an error a hook or handler caught) rolls back.
      if (commit.command !== undefined && commit.command !== 'COMMIT') {
        throw new ApprovalError('APPROVAL_CONFLICT', 'The transaction was rolled back at COMMIT; retry', {
          details: { command: commit.command },
        });
      }
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      if (isConnectionError(error)) broken = error as Error;
      throw error;
    } finally {
      ended = true;
      events.removeListener?.('error', onError);
      client.release(broken);
    }
  }

  get(tenantId: string, id: string): Promise<ApprovalRequest | null> {
    return this.#get(this.#pool, tenantId, id);
  }

  async list(tenantId: string, query: RequestQuery): Promise<ApprovalRequest[]> {
    const values: unknown[] = [tenantId];
    const where = ['tenant_id = $1'];
    const p = (v: unknown) => {
      values.push(v);
      return `$${values.length}`;
    };
    if (query.resource)
      where.push(`resource_type = ${p(query.resource.type)} AND resource_id = ${p(query.resource.id)}`);
    if (query.makerId !== undefined) where.push(`maker_id = ${p(query.makerId)}`);
    if (query.decidedBy !== undefined) where.push(`decided_by @> ARRAY[${p(query.decidedBy)}]::text[]`);
    if (query.approvalStates) where.push(`approval_state = ANY(${p(query.approvalStates)}::text[])`);
    if (query.beforeId !== undefined) where.push(`id < ${p(query.beforeId)}::uuid`);
    if (query.decidableBy) {
      const d = query.decidableBy;
      const actor = p(d.actorId);
      where.push(
        `approval_state = 'PENDING' AND expires_at > ${p(d.now.toISOString())}`,
        `approver_roles && ${p(d.roles)}::text[]`,
        `NOT (decided_by @> ARRAY[${actor}]::text[])`,
        `(maker_id <> ${actor} OR maker_may_approve)`,
      );
    }
    const { rows } = await run<RequestRow>(
      this.#pool,
      `SELECT body, version FROM ${REQUESTS_TABLE} WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ${p(query.limit)}`,
      values,
    );
    return rows.map(decodeRequest);
  }

  async dueForSweep(now: Date, limit: number, tenantId: string | undefined): Promise<ApprovalRequest[]> {
    const values: unknown[] = [now.toISOString(), limit];
    const tenant = tenantId === undefined ? '' : ` AND tenant_id = $3`;
    if (tenantId !== undefined) values.push(tenantId);
    const { rows } = await run<RequestRow>(
      this.#pool,
      `(SELECT body, version FROM ${REQUESTS_TABLE} WHERE approval_state = 'PENDING' AND expires_at <= $1${tenant} LIMIT $2)
       UNION ALL (SELECT body, version FROM ${REQUESTS_TABLE} WHERE unlock_pending${tenant} LIMIT $2)`,
      values,
    );
    return rows.map(decodeRequest);
  }

  async latestPolicySet(tenantId: string): Promise<PolicySet | null> {
    const { rows } = await run<{
      tenant_id: string;
      version: number;
      body: unknown;
      created_at: Date;
      created_by: string;
    }>(
      this.#pool,
      `SELECT tenant_id, version, body, created_at, created_by FROM ${POLICIES_TABLE} WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`,
      [tenantId],
    );
    return rows[0] ? decodePolicySet(rows[0]) : null;
  }

  async insertPolicySet(set: PolicySet): Promise<boolean> {
    const res = await run(
      this.#pool,
      `INSERT INTO ${POLICIES_TABLE} (tenant_id, version, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, version) DO NOTHING`,
      [
        set.tenantId,
        set.version,
        JSON.stringify({ policies: set.policies, bypass: set.bypass }),
        set.createdAt.toISOString(),
        set.createdBy,
      ],
    );
    return res.rowCount === 1;
  }
}

/**
 * `client` as hooks and handlers see it: its `query` refused (`UNIT_OF_WORK_ENDED`, never sent) once
 * `ended()`, and `release` refused (the store releases the connection).
 */
function guardedHandle(client: object, ended: () => boolean): unknown {
  const refused = () =>
    new TenantryError('UNIT_OF_WORK_ENDED', 'A query was issued on an approvals unit of work that has ended');
  // One function per unit (not one per property read): hooks call `query` on every statement.
  const query = (...args: unknown[]) => {
    if (!ended()) return (client as PgQueryable).query(...(args as [string, unknown[]]));
    const callback = args.find((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
    if (callback) {
      queueMicrotask(() => callback(refused()));
      return undefined;
    }
    return Promise.reject(refused());
  };
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'query') return query;
      if (prop === 'release') {
        return () => {
          throw new TenantryError('VALIDATION_FAILED', 'The approvals store releases its connection');
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The listener methods of a `pg` client (an EventEmitter), when present. */
interface ClientEvents {
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}
