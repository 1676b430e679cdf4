import { type Clock, type PgExecutor, type PgPoolLike, systemClock } from '@tenantry/core';
import { corkWrites, isPipelinedClient, quoteLiteral } from '@tenantry/core/postgres';
import { type ChainHead, EMPTY_HEAD, chainBatch, groupByChain, microsFromMillis } from '../../chain.js';
import type { Checkpoint } from '../../checkpoint.js';
import { storeError } from '../../errors.js';
import { checkClock, invalid, isRecord } from '../../guards.js';
import { type ChainedEvent, type PreparedEvent, eventIndexOf } from '../../event.js';
import type { AppendOptions, ReadableAuditSink, SinkCapabilities, SinkQuery } from '../../audit-sink.js';
import { type PostgresAuditNames, auditNames } from './schema.js';

/** Options of {@link PostgresAuditSink}. */
export interface PostgresAuditSinkOptions extends PostgresAuditNames {
  /** The application's `pg` Pool (not owned: `close` leaves it open). Use a role that does not own the tables. */
  pool: PgPoolLike;
  /** Clock for the store time. @default systemClock */
  clock?: Clock;
}

// Advisory lock namespace ("tna" + 1): the second key is hashtext(tenant), so tenants rarely share a lock.
const LOCK_CLASS = 0x746e6101;

interface Row {
  id: string;
  tenant_id: string;
  seq: string;
  us: string;
  prev_hash: string;
  hash: string;
  body: string;
  actor_id: string;
  action: string;
  oc: number;
  targets: string[];
}

// The hashed columns, plus the query columns so that verify can check them against the body.
const SELECT_COLS = `id::text AS id, tenant_id, seq, recorded_at AS us, prev_hash, hash, body,
  actor_id, action, (extract(epoch FROM occurred_at) * 1000)::float8 AS oc, targets`;

const toEvent = (r: Row): ChainedEvent => ({
  id: r.id,
  chain: r.tenant_id,
  seq: Number(r.seq),
  recordedAt: Number(r.us),
  prevHash: r.prev_hash,
  hash: r.hash,
  text: r.body,
  index: { id: r.id, actorId: r.actor_id, action: r.action, occurredAt: r.oc, targets: r.targets },
});

/**
 * The PostgreSQL sink. Each batch is one transaction: per tenant (in sorted order, so two batches
 * never deadlock) it takes a transaction-scoped advisory lock keyed by the tenant, reads the
 * chain's head, links and inserts the events with one multi-row `INSERT … SELECT unnest(…)`.
 * Writers of one tenant therefore serialise and never fork the chain; writers of different
 * tenants take different locks. Each partition's UNIQUE (tenant_id, seq) index is the backstop.
 * Works through PgBouncer in transaction mode (no session state). Needs `auditMigrations`.
 * Driver errors are wrapped: `AUDIT_NOT_MIGRATED`, `AUDIT_STORE_UNAVAILABLE` (retryable), `AUDIT_STORE_FAILED`.
 * @example const sink = new PostgresAuditSink({ pool });
 */
export class PostgresAuditSink implements ReadableAuditSink {
  readonly name = 'postgres';
  readonly capabilities: SinkCapabilities = Object.freeze({
    readable: true,
    sharedChain: true,
    checkpoints: true,
  });
  readonly #n: ReturnType<typeof auditNames>;
  readonly #pool: PgPoolLike;
  readonly #clock: Clock;

  /** @throws ValidationError `VALIDATION_FAILED` for table names that are not plain lower-case identifiers, a pool without `query()` or a clock without `now()` */
  constructor(options: PostgresAuditSinkOptions) {
    const what = 'postgres audit sink options';
    if (!isRecord(options)) invalid(what, '', 'must be an object with pool');
    this.#n = auditNames(options);
    if (typeof (options.pool as Partial<PgPoolLike> | null)?.query !== 'function') {
      invalid(what, 'pool', 'must be a pg Pool (an object with query())');
    }
    checkClock(options.clock, what);
    this.#pool = options.pool;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Create the monthly partitions covering `from` and the following months (e.g. from a monthly
   * job); the sink also creates a missing one by itself on the first write of a month.
   * @returns how many partitions were created
   */
  async ensurePartitions(from: Date = this.#clock.now(), months = 2): Promise<number> {
    try {
      const { rows } = await this.#pool.query<{ n: number }>(
        `SELECT ${this.#n.ensurePartitions}($1, $2) AS n`,
        [from.toISOString(), months],
      );
      return Number(rows[0]?.n ?? 0);
    } catch (error) {
      throw storeError(error, this.name, 'ensurePartitions');
    }
  }

  async #appendOnce(events: readonly PreparedEvent[], opts: AppendOptions): Promise<ChainedEvent[]> {
    const n = this.#n;
    const groups = [...groupByChain(events)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    // A connection that dies while checked out (a terminated backend, a pooler's 08P01 `server conn
    // crashed?`) emits 'error' on the client, which would crash the host without a listener.
    const onError = (error: Error): void => {
      broken = error;
    };
    const emitter = client as unknown as ClientEvents;
    emitter.on?.('error', onError);
    try {
      // One round trip for BEGIN, the per-tenant locks (in sorted order, so batches never deadlock)
      // and the heads. A multi-statement simple query gives each statement its own snapshot under
      // READ COMMITTED, so the heads are read after the locks are held. Chain keys are tenant ids
      // (letters, digits, . _ -) or '$platform', quoted as literals anyway.
      const literals = groups.map(([chain]) => quoteLiteral(chain));
      const statements = [
        'BEGIN',
        ...literals.map((l) => `SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${l}))`),
        `SELECT c.chain, h.seq, h.hash, h.recorded_at AS us FROM unnest(ARRAY[${literals.join(',')}]::text[]) AS c(chain)
           CROSS JOIN LATERAL (SELECT seq, hash, recorded_at FROM ${n.events} WHERE tenant_id = c.chain ORDER BY seq DESC LIMIT 1) AS h`,
      ];
      type HeadRow = { chain: string; seq: string; hash: string; us: string };
      // A pg client answers each statement of a multi-statement query; an adapter's executor (Kysely,
      // postgres.js) does not promise that, so the heads are read in a second round trip there.
      const viaAdapter = (client as PgExecutor).clientKind !== undefined;
      const results = viaAdapter
        ? [
            await client.query(statements.slice(0, -1).join(';\n')),
            await client.query<HeadRow>(statements.at(-1) as string),
          ]
        : ((await client.query(statements.join(';\n'))) as unknown as Array<{ rows: HeadRow[] }>);
      const heads = new Map<string, ChainHead>();
      for (const r of (results[results.length - 1]?.rows ?? []) as HeadRow[]) {
        heads.set(r.chain, { seq: Number(r.seq), hash: r.hash, recordedAt: Number(r.us) });
      }
      const stored: ChainedEvent[] = [];
      const cols: unknown[][] = Array.from({ length: 11 }, () => []);
      for (const [chain, group] of groups) {
        let fresh = group;
        if (opts.mayBeDuplicate) {
          const { rows } = await client.query<{ id: string }>(
            `SELECT id::text AS id FROM ${n.events} WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
            [chain, group.map((e) => e.id)],
          );
          const have = new Set(rows.map((r) => r.id));
          fresh = group.filter((e) => !have.has(e.id) && have.add(e.id));
        }
        if (fresh.length === 0) continue;
        const head = heads.get(chain) ?? EMPTY_HEAD;
        const linked = chainBatch(head, fresh, microsFromMillis(this.#clock.now().getTime()));
        linked.forEach((e, i) => {
          const ix = eventIndexOf(fresh[i]!.body);
          const row = [
            e.chain,
            e.seq,
            e.recordedAt,
            e.prevHash,
            e.hash,
            e.text,
            e.id,
            ix.actorId,
            ix.action,
            new Date(ix.occurredAt).toISOString(),
            ix.targets,
          ];
          for (const [c, v] of row.entries()) cols[c]!.push(v);
        });
        stored.push(...linked);
      }
      const insert = () =>
        client.query(
          `INSERT INTO ${n.events} (tenant_id, seq, recorded_at, prev_hash, hash, body, id, actor_id, action, occurred_at, targets)
           SELECT t, s, r, p, h, b, i, a, x, o, ARRAY(SELECT jsonb_array_elements_text(g))
           FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::text[], $9::text[], $10::timestamptz[], $11::jsonb[])
             AS u(t, s, r, p, h, b, i, a, x, o, g)`,
          cols.map((c, k) => (k === 10 ? c.map((v) => JSON.stringify(v)) : c)),
        );
      if (stored.length > 0 && isPipelinedClient(client)) {
        // A pipelined `pg` client: the INSERT and COMMIT go out together (one round trip). If the INSERT
        // fails, the server answers the COMMIT of the aborted transaction with ROLLBACK. Both leave in
        // one socket write (one segment, one wake-up of the server).
        const flush = corkWrites(client);
        let inserted: Promise<unknown>;
        let committed: Promise<unknown>;
        try {
          inserted = insert().then(
            () => undefined,
            (e: unknown) => e ?? new Error('INSERT failed'),
          );
          committed = client.query('COMMIT').then(
            (r) => r as unknown as { command?: string },
            (e: unknown) => e ?? new Error('COMMIT failed'),
          );
        } finally {
          flush();
        }
        const [insertError, commit] = [await inserted, await committed];
        if (insertError !== undefined) throw insertError;
        if (commit instanceof Error || (commit as { command?: string }).command !== 'COMMIT') {
          throw commit instanceof Error
            ? commit
            : new Error(`COMMIT answered ${(commit as { command?: string }).command}`);
        }
        return stored;
      }
      if (stored.length > 0) await insert();
      await client.query('COMMIT');
      return stored;
    } catch (error) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw error;
    } finally {
      emitter.removeListener?.('error', onError);
      client.release(broken);
    }
  }

  async append(events: readonly PreparedEvent[], opts: AppendOptions = {}): Promise<ChainedEvent[]> {
    if (events.length === 0) return [];
    try {
      try {
        return await this.#appendOnce(events, opts);
      } catch (error) {
        // 23514: no partition for the store time (first write of a new month): create it, retry once.
        if ((error as { code?: string }).code !== '23514') throw error;
        await this.ensurePartitions(this.#clock.now(), 2);
        return await this.#appendOnce(events, opts);
      }
    } catch (error) {
      throw storeError(error, this.name, 'append');
    }
  }

  async head(chain: string): Promise<ChainHead | null> {
    try {
      const { rows } = await this.#pool.query<{ seq: string; hash: string; us: string }>(
        `SELECT seq, hash, recorded_at AS us FROM ${this.#n.events}
         WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1`,
        [chain],
      );
      const r = rows[0];
      return r ? { seq: Number(r.seq), hash: r.hash, recordedAt: Number(r.us) } : null;
    } catch (error) {
      throw storeError(error, this.name, 'head');
    }
  }

  async readChain(chain: string, afterSeq: number, limit: number, toSeq?: number): Promise<ChainedEvent[]> {
    // The hot path of verify: the hashed columns and the query columns verify checks against them.
    // (Measured: a page aggregated server-side with string_agg is slower than plain rows.)
    let rows: Row[];
    try {
      ({ rows } = await this.#pool.query<Row>(
        `SELECT ${SELECT_COLS} FROM ${this.#n.events}
         WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
        [chain, afterSeq, toSeq ?? Number.MAX_SAFE_INTEGER, limit],
      ));
    } catch (error) {
      throw storeError(error, this.name, 'read');
    }
    return rows.map(toEvent);
  }

  async query(q: SinkQuery): Promise<ChainedEvent[]> {
    const where = ['tenant_id = $1', 'seq > $2'];
    const params: unknown[] = [q.chain, q.afterSeq];
    const add = (sql: (p: string) => string, v: unknown) => {
      params.push(v);
      where.push(sql(`$${params.length}`));
    };
    if (q.from !== undefined) add((p) => `occurred_at >= to_timestamp(${p}::float8 / 1000)`, q.from);
    if (q.to !== undefined) add((p) => `occurred_at < to_timestamp(${p}::float8 / 1000)`, q.to);
    if (q.actorId !== undefined) add((p) => `actor_id = ${p}`, q.actorId);
    if (q.action !== undefined) add((p) => `action = ${p}`, q.action);
    if (q.target !== undefined)
      add((p) => `targets @> ARRAY[${p}::text]`, `${q.target.type}:${q.target.id ?? ''}`);
    params.push(q.limit);
    try {
      const { rows } = await this.#pool.query<Row>(
        `SELECT ${SELECT_COLS} FROM ${this.#n.events} WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
        params,
      );
      return rows.map(toEvent);
    } catch (error) {
      throw storeError(error, this.name, 'query');
    }
  }

  async putCheckpoint(cp: Checkpoint): Promise<void> {
    try {
      await this.#pool.query(
        `INSERT INTO ${this.#n.checkpoints} (chain, seq, hash, recorded_at, signed_at, key_id, signature)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [cp.chain, cp.seq, cp.hash, cp.recordedAt, cp.signedAt, cp.keyId, cp.signature],
      );
    } catch (error) {
      throw storeError(error, this.name, 'putCheckpoint');
    }
  }

  async listCheckpoints(chain: string): Promise<Checkpoint[]> {
    let rows: Array<Record<string, string>>;
    try {
      ({ rows } = await this.#pool.query<Record<string, string>>(
        `SELECT chain, seq, hash, recorded_at, signed_at, key_id, signature FROM ${this.#n.checkpoints}
         WHERE chain = $1 ORDER BY seq, signed_at`,
        [chain],
      ));
    } catch (error) {
      throw storeError(error, this.name, 'listCheckpoints');
    }
    return rows.map((r) => ({
      v: 1 as const,
      chain: r.chain!,
      seq: Number(r.seq),
      hash: r.hash!,
      recordedAt: Number(r.recorded_at),
      signedAt: Number(r.signed_at),
      keyId: r.key_id!,
      signature: r.signature!,
    }));
  }
}

/** The listener methods of a `pg` client (an EventEmitter), when present. */
interface ClientEvents {
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}
