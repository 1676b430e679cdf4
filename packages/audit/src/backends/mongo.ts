import type { Collection, Db } from 'mongodb';
import { type Clock, systemClock } from '@tenantry/core';
import { type ChainHead, EMPTY_HEAD, chainBatch, groupByChain, microsFromMillis } from '../chain.js';
import type { Checkpoint } from '../checkpoint.js';
import type { AuditEventBody, ChainedEvent, PreparedEvent } from '../event.js';
import type { AppendOptions, ReadableAuditSink, SinkCapabilities, SinkQuery } from '../sink.js';

/** Options of {@link createMongoSink}. */
export interface MongoSinkOptions {
  /** The application's database handle (the client is not owned: `close` leaves it open). */
  db: Db;
  /** Collection name prefix. @default 'tenantry_audit' */
  prefix?: string;
  /** @default systemClock */
  clock?: Clock;
  /** Attempts when another writer took the same sequence number first. @default 50 */
  maxRetries?: number;
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

const targetKeys = (body: AuditEventBody): string[] =>
  body.targets
    .flatMap((t) => [`${t.type}:`, `${t.type}:${t.id ?? ''}`])
    .filter((k, i, a) => a.indexOf(k) === i);

const toEvent = (d: EventDoc): ChainedEvent => ({
  id: d.id,
  chain: d.chain,
  seq: d.seq,
  recordedAt: d.recordedAt,
  prevHash: d.prevHash,
  hash: d.hash,
  text: d.text,
});

const isDuplicateKey = (e: unknown): boolean => (e as { code?: number }).code === 11000;

/**
 * The MongoDB sink (official driver). Lock-free: `_id` is `<tenant>:<seq>`, so two writers that
 * read the same head cannot both store the next sequence number; the loser re-reads the head and
 * re-links its events (an ordered `insertMany` stores a prefix that is itself a valid chain, so no
 * transaction is needed and it works on a standalone server, a replica set, and a sharded cluster
 * with shard key `{ chain: 1, seq: 1 }`). Append-only is enforced by the role you give the
 * application: grant it only `find` and `insert` on the collections (see README).
 * @example const sink = createMongoSink({ db: client.db('app') }); await sink.ensureIndexes();
 */
export function createMongoSink(
  options: MongoSinkOptions,
): ReadableAuditSink & { ensureIndexes(): Promise<void> } {
  const prefix = options.prefix ?? 'tenantry_audit';
  const events: Collection<EventDoc> = options.db.collection<EventDoc>(`${prefix}_events`);
  const checkpoints: Collection<CheckpointDoc> = options.db.collection<CheckpointDoc>(
    `${prefix}_checkpoints`,
  );
  const clock = options.clock ?? systemClock;
  const maxRetries = options.maxRetries ?? 50;
  const capabilities: SinkCapabilities = Object.freeze({
    readable: true,
    sharedChain: true,
    checkpoints: true,
  });

  const head = async (chain: string): Promise<ChainHead | null> => {
    const d = await events
      .find({ chain }, { sort: { seq: -1 }, limit: 1, projection: { seq: 1, hash: 1, recordedAt: 1 } })
      .next();
    return d ? { seq: d.seq, hash: d.hash, recordedAt: d.recordedAt } : null;
  };

  const appendChain = async (
    chain: string,
    group: PreparedEvent[],
    opts: AppendOptions,
  ): Promise<ChainedEvent[]> => {
    let pending = group;
    if (opts.mayBeDuplicate) {
      const have = new Set(
        (
          await events
            .find({ chain, id: { $in: group.map((e) => e.id) } }, { projection: { id: 1 } })
            .toArray()
        ).map((d) => d.id),
      );
      pending = group.filter((e) => !have.has(e.id));
    }
    const stored: ChainedEvent[] = [];
    for (let attempt = 0; pending.length > 0; attempt++) {
      const linked = chainBatch(
        (await head(chain)) ?? EMPTY_HEAD,
        pending,
        microsFromMillis(clock.now().getTime()),
      );
      const docs: EventDoc[] = linked.map((e, i) => {
        const body = pending[i]!.body;
        return {
          _id: `${chain}:${e.seq}`,
          ...e,
          actorId: body.actor.id,
          action: body.action,
          occurredAt: new Date(body.occurredAt),
          targets: targetKeys(body),
        };
      });
      try {
        await events.insertMany(docs, { ordered: true });
        stored.push(...linked);
        pending = [];
      } catch (error) {
        if (!isDuplicateKey(error) || attempt >= maxRetries) throw error;
        const inserted =
          (error as { insertedCount?: number; result?: { insertedCount?: number } }).insertedCount ?? 0;
        stored.push(...linked.slice(0, inserted));
        pending = pending.slice(inserted);
      }
    }
    return stored;
  };

  return {
    name: 'mongo',
    capabilities,
    async ensureIndexes() {
      await events.createIndex({ chain: 1, seq: 1 }, { unique: true });
      await events.createIndex({ chain: 1, id: 1 }, { unique: true });
      await events.createIndex({ chain: 1, actorId: 1, seq: 1 });
      await events.createIndex({ chain: 1, action: 1, seq: 1 });
      await events.createIndex({ chain: 1, targets: 1, seq: 1 });
      await events.createIndex({ chain: 1, occurredAt: 1 });
      await checkpoints.createIndex({ chain: 1, seq: 1 });
    },
    async append(batch, opts = {}) {
      const out: ChainedEvent[] = [];
      for (const [chain, group] of groupByChain(batch)) out.push(...(await appendChain(chain, group, opts)));
      return out;
    },
    head,
    async readChain(chain, afterSeq, limit, toSeq) {
      const docs = await events
        .find(
          { chain, seq: { $gt: afterSeq, $lte: toSeq ?? Number.MAX_SAFE_INTEGER } },
          { sort: { seq: 1 }, limit },
        )
        .toArray();
      return docs.map(toEvent);
    },
    async query(q: SinkQuery) {
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
      const docs = await events.find(filter, { sort: { seq: 1 }, limit: q.limit }).toArray();
      return docs.map(toEvent);
    },
    async putCheckpoint(cp) {
      const _id = `${cp.chain}:${cp.seq}:${cp.keyId}:${cp.signedAt}`;
      try {
        await checkpoints.insertOne({ _id, ...cp });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    },
    async listCheckpoints(chain) {
      const docs = await checkpoints.find({ chain }, { sort: { seq: 1, signedAt: 1 } }).toArray();
      return docs.map(({ _id, ...cp }) => cp);
    },
  };
}
