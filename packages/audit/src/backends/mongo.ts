import type { Collection, Db } from 'mongodb';
import { type Clock, systemClock } from '@tenantry/core';
import { type ChainHead, EMPTY_HEAD, chainBatch, groupByChain, microsFromMillis } from '../chain.js';
import type { Checkpoint } from '../checkpoint.js';
import { type ChainedEvent, type PreparedEvent, eventIndexOf } from '../event.js';
import type { AppendOptions, ReadableAuditSink, SinkCapabilities, SinkQuery } from '../audit-sink.js';
import { AuditError, storeError } from '../errors.js';
import { checkClock, invalid, isRecord, optionsOf } from '../guards.js';

/** Options of {@link MongoAuditSink}. */
export interface MongoAuditSinkOptions {
  /** The application's database handle (the client is not owned: nothing here closes it). */
  db: Db;
  /** Collection name prefix. @default 'tenantry_audit' */
  prefix?: string;
  /** @default systemClock */
  clock?: Clock;
  /** Attempts when another writer took the same sequence number first. @default 50 */
  maxRetries?: number;
}

/** Options of {@link ensureAuditIndexes}. */
export interface MongoAuditIndexOptions {
  /** Collection name prefix, as given to the sink. @default 'tenantry_audit' */
  prefix?: string;
}

const PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
function prefixOf(prefix: string | undefined): string {
  const p = prefix ?? 'tenantry_audit';
  if (typeof p !== 'string' || !PREFIX.test(p)) {
    throw new AuditError(
      'VALIDATION_FAILED',
      'The Mongo collection prefix must be 1-64 chars of [A-Za-z0-9_]',
      {
        details: { what: 'mongo prefix' },
      },
    );
  }
  return p;
}

interface EventDoc {
  _id: string;
  chain: string;
  seq: number;
  id: string;
  recordedAt: number;
  prevHash: string;
  hash: string;
  text: string;
  actorId: string;
  action: string;
  occurredAt: Date;
  targets: string[];
}

type CheckpointDoc = Checkpoint & { _id: string };

const toEvent = (d: EventDoc): ChainedEvent => ({
  id: d.id,
  chain: d.chain,
  seq: d.seq,
  recordedAt: d.recordedAt,
  prevHash: d.prevHash,
  hash: d.hash,
  text: d.text,
  index: {
    id: d.id,
    actorId: d.actorId,
    action: d.action,
    occurredAt: d.occurredAt.getTime(),
    targets: d.targets,
  },
});

const isDuplicateKey = (e: unknown): boolean => (e as { code?: number }).code === 11000;

/**
 * Create the indexes the MongoDB sink needs (idempotent): unique `(chain, seq)` and `(chain, id)`, the
 * query indexes, and the checkpoints' index. Run it once from your migration step, with a role that
 * may create indexes (the application role needs only `find` and `insert`).
 * @throws AuditError `AUDIT_STORE_UNAVAILABLE` | `AUDIT_STORE_FAILED`; ValidationError `VALIDATION_FAILED` for a bad prefix
 * @example await ensureAuditIndexes(client.db('app'));
 */
export async function ensureAuditIndexes(db: Db, options: MongoAuditIndexOptions = {}): Promise<void> {
  if (typeof (db as Partial<Db> | null)?.collection !== 'function') {
    invalid('audit index options', 'db', 'must be a MongoDB Db');
  }
  const prefix = prefixOf(optionsOf(options, 'audit index options').prefix);
  const events = db.collection(`${prefix}_events`);
  const checkpoints = db.collection(`${prefix}_checkpoints`);
  try {
    await events.createIndex({ chain: 1, seq: 1 }, { unique: true });
    await events.createIndex({ chain: 1, id: 1 }, { unique: true });
    await events.createIndex({ chain: 1, actorId: 1, seq: 1 });
    await events.createIndex({ chain: 1, action: 1, seq: 1 });
    await events.createIndex({ chain: 1, targets: 1, seq: 1 });
    await events.createIndex({ chain: 1, occurredAt: 1 });
    await checkpoints.createIndex({ chain: 1, seq: 1 });
  } catch (error) {
    throw storeError(error, 'mongo', 'createIndex');
  }
}

/**
 * The MongoDB sink (official driver). Lock-free: `_id` is `<tenant>:<seq>`, so two writers that
 * read the same head cannot both store the next sequence number; the loser re-reads the head and
 * re-links its events (an ordered `insertMany` stores a prefix that is itself a valid chain, so no
 * transaction is needed and it works on a standalone server, a replica set, and a sharded cluster
 * with shard key `{ chain: 1, seq: 1 }`). Append-only is enforced by the role you give the
 * application: grant it only `find` and `insert` on the collections (see README). Run
 * {@link ensureAuditIndexes} once first.
 * @example const sink = new MongoAuditSink({ db: client.db('app') });
 */
export class MongoAuditSink implements ReadableAuditSink {
  readonly name = 'mongo';
  readonly capabilities: SinkCapabilities = Object.freeze({
    readable: true,
    sharedChain: true,
    checkpoints: true,
  });
  readonly #events: Collection<EventDoc>;
  readonly #checkpoints: Collection<CheckpointDoc>;
  readonly #clock: Clock;
  readonly #maxRetries: number;

  /** @throws ValidationError `VALIDATION_FAILED` for options of the wrong shape (checked structurally) */
  constructor(options: MongoAuditSinkOptions) {
    const what = 'mongo audit sink options';
    if (!isRecord(options)) invalid(what, '', 'must be an object with db');
    if (typeof (options.db as Partial<Db> | null)?.collection !== 'function') {
      invalid(what, 'db', 'must be a MongoDB Db');
    }
    if (
      options.maxRetries !== undefined &&
      (!Number.isSafeInteger(options.maxRetries) || options.maxRetries < 0)
    ) {
      invalid(what, 'maxRetries', 'must be an integer >= 0');
    }
    checkClock(options.clock, what);
    const prefix = prefixOf(options.prefix);
    this.#events = options.db.collection<EventDoc>(`${prefix}_events`);
    this.#checkpoints = options.db.collection<CheckpointDoc>(`${prefix}_checkpoints`);
    this.#clock = options.clock ?? systemClock;
    this.#maxRetries = options.maxRetries ?? 50;
  }

  async #head(chain: string): Promise<ChainHead | null> {
    const d = await this.#events
      .find({ chain }, { sort: { seq: -1 }, limit: 1, projection: { seq: 1, hash: 1, recordedAt: 1 } })
      .next();
    return d ? { seq: d.seq, hash: d.hash, recordedAt: d.recordedAt } : null;
  }

  async #appendChain(chain: string, group: PreparedEvent[], opts: AppendOptions): Promise<ChainedEvent[]> {
    let pending = group;
    if (opts.mayBeDuplicate) {
      const have = new Set(
        (
          await this.#events
            .find({ chain, id: { $in: group.map((e) => e.id) } }, { projection: { id: 1 } })
            .toArray()
        ).map((d) => d.id),
      );
      pending = group.filter((e) => !have.has(e.id));
    }
    const stored: ChainedEvent[] = [];
    for (let attempt = 0; pending.length > 0; attempt++) {
      const linked = chainBatch(
        (await this.#head(chain)) ?? EMPTY_HEAD,
        pending,
        microsFromMillis(this.#clock.now().getTime()),
      );
      const docs: EventDoc[] = linked.map((e, i) => {
        const body = pending[i]!.body;
        return {
          _id: `${chain}:${e.seq}`,
          ...e,
          actorId: body.actor.id,
          action: body.action,
          occurredAt: new Date(body.occurredAt),
          targets: [...eventIndexOf(body).targets],
        };
      });
      try {
        await this.#events.insertMany(docs, { ordered: true });
        stored.push(...linked);
        pending = [];
      } catch (error) {
        if (!isDuplicateKey(error) || attempt >= this.#maxRetries) throw error;
        const inserted =
          (error as { insertedCount?: number; result?: { insertedCount?: number } }).insertedCount ?? 0;
        stored.push(...linked.slice(0, inserted));
        pending = pending.slice(inserted);
      }
    }
    return stored;
  }

  async append(batch: readonly PreparedEvent[], opts: AppendOptions = {}): Promise<ChainedEvent[]> {
    const out: ChainedEvent[] = [];
    try {
      for (const [chain, group] of groupByChain(batch))
        out.push(...(await this.#appendChain(chain, group, opts)));
    } catch (error) {
      throw storeError(error, this.name, 'append');
    }
    return out;
  }

  async head(chain: string): Promise<ChainHead | null> {
    try {
      return await this.#head(chain);
    } catch (error) {
      throw storeError(error, this.name, 'head');
    }
  }

  async readChain(chain: string, afterSeq: number, limit: number, toSeq?: number): Promise<ChainedEvent[]> {
    try {
      const docs = await this.#events
        .find(
          { chain, seq: { $gt: afterSeq, $lte: toSeq ?? Number.MAX_SAFE_INTEGER } },
          { sort: { seq: 1 }, limit },
        )
        .toArray();
      return docs.map(toEvent);
    } catch (error) {
      throw storeError(error, this.name, 'read');
    }
  }

  async query(q: SinkQuery): Promise<ChainedEvent[]> {
    const filter: Record<string, unknown> = { chain: q.chain, seq: { $gt: q.afterSeq } };
    if (q.from !== undefined || q.to !== undefined) {
      filter.occurredAt = {
        ...(q.from !== undefined ? { $gte: new Date(q.from) } : {}),
        ...(q.to !== undefined ? { $lt: new Date(q.to) } : {}),
      };
    }
    if (q.actorId !== undefined) filter.actorId = q.actorId;
    if (q.action !== undefined) filter.action = q.action;
    if (q.target !== undefined) filter.targets = `${q.target.type}:${q.target.id ?? ''}`;
    try {
      const docs = await this.#events.find(filter, { sort: { seq: 1 }, limit: q.limit }).toArray();
      return docs.map(toEvent);
    } catch (error) {
      throw storeError(error, this.name, 'query');
    }
  }

  async putCheckpoint(cp: Checkpoint): Promise<void> {
    const _id = `${cp.chain}:${cp.seq}:${cp.keyId}:${cp.signedAt}`;
    try {
      await this.#checkpoints.insertOne({ _id, ...cp });
    } catch (error) {
      if (!isDuplicateKey(error)) throw storeError(error, this.name, 'putCheckpoint');
    }
  }

  async listCheckpoints(chain: string): Promise<Checkpoint[]> {
    try {
      const docs = await this.#checkpoints.find({ chain }, { sort: { seq: 1, signedAt: 1 } }).toArray();
      return docs.map(({ _id, ...cp }) => cp);
    } catch (error) {
      throw storeError(error, this.name, 'listCheckpoints');
    }
  }
}
