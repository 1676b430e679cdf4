import { type Clock, systemClock, withSpan } from '@tenantry/core';
import type { ClientSession, Db } from 'mongodb';
import type { VoidRecord } from '../../counter-store.js';
import { SequencerError } from '../../errors.js';
import { counterResource } from '../../lock-backend.js';
import type { IssueDateInput } from '../../period.js';
import {
  type AllocatedNumber,
  buildAllocations,
  checkRange,
  callOptions,
  resolveRequest,
  type Series,
  type TenantOption,
} from '../../series.js';
import { spanAttributes } from '../../telemetry.js';
import { parseVoid } from '../../void-request.js';
import { MongoCounterStore } from './counter-store.js';
import { type CounterDoc, MONGO_COLLECTIONS, mapMongoError, requireDb } from './schema.js';

/** Options of one Mongo in-transaction allocation (the tenant comes from the context unless named). */
export interface MongoAllocateOptions extends TenantOption {
  /** The caller's session, inside `session.withTransaction(...)`, which also writes the document. */
  session: ClientSession;
  issueDate?: IssueDateInput;
}

/** Options of {@link MongoSequencer.lastCommitted}. */
export interface MongoReadOptions extends TenantOption {
  issueDate?: IssueDateInput;
}

/** Options of {@link MongoSequencer.void}. */
export interface MongoVoidOptions extends TenantOption {
  /** The transaction that marks the document voided. */
  session?: ClientSession;
  issueDate?: IssueDateInput;
  /** Why (1–500 characters). */
  reason: string;
}

/** Options of {@link createMongoSequencer}. */
export interface MongoSequencerOptions {
  /** The user's database handle; never closed. */
  db: Db;
  /** Time source of void records. @default systemClock */
  clock?: Clock;
}

/** The MongoDB in-transaction sequencer. */
export interface MongoSequencer {
  /**
   * Take the next number by updating the counter document inside the caller's transaction. A concurrent
   * allocation gets a `WriteConflict` (transient) which `withTransaction` retries. Needs a replica set.
   * @throws SequencerError `SEQUENCER_CHRONOLOGY_VIOLATION` (abort the transaction), `SEQUENCER_ISSUE_DATE_REQUIRED`
   * @example await session.withTransaction(async () => { const n = await seq.next(invoices, { session }); await invoices.insertOne({ ...doc, number: n.number }, { session }); });
   */
  next(series: Series, options: MongoAllocateOptions): Promise<AllocatedNumber>;
  /** `count` consecutive numbers in the same transaction, all or none. */
  nextBatch(series: Series, count: number, options: MongoAllocateOptions): Promise<AllocatedNumber[]>;
  /** The last committed number of the series and period (`null` before the first). */
  lastCommitted(series: Series, options?: MongoReadOptions): Promise<number | null>;
  /** Record a void; the number stays consumed. */
  void(series: Series, number: number, options: MongoVoidOptions): Promise<VoidRecord>;
}

/**
 * The MongoDB in-transaction sequencer (counter document updated in the caller's session transaction).
 * @throws TenantryError `VALIDATION_FAILED` without `{ db }`
 * @example const seq = createMongoSequencer({ db: client.db('app') });
 */
export function createMongoSequencer(options: MongoSequencerOptions): MongoSequencer {
  const db = requireDb(options, 'createMongoSequencer');
  const counters = db.collection<CounterDoc>(MONGO_COLLECTIONS.counters);
  const store = new MongoCounterStore({ db });
  const clock = options.clock ?? systemClock;
  const allocate = async (series: Series, count: number, opts: MongoAllocateOptions) => {
    const req = resolveRequest(series, callOptions(opts, count));
    return withSpan('sequencer', count === 1 ? 'allocate' : 'batch', spanAttributes(req.key, req.count), () =>
      run(series, req, opts?.session),
    );
  };
  const run = async (
    series: Series,
    req: ReturnType<typeof resolveRequest>,
    session: ClientSession,
  ): Promise<AllocatedNumber[]> => {
    const { key } = req;
    let before: CounterDoc | null;
    try {
      before = await counters.findOneAndUpdate(
        { _id: counterResource(key) },
        [
          {
            $set: {
              tenant: key.tenant,
              series: key.series,
              period: key.period,
              fence: { $ifNull: ['$fence', 0] },
              mark: { $add: [{ $ifNull: ['$mark', key.start - 1] }, req.count] },
              lastIssueDate: {
                $max: [{ $ifNull: ['$lastIssueDate', null] }, { $literal: req.issueDate ?? null }],
              },
            },
          },
        ],
        { upsert: true, returnDocument: 'before', session },
      );
    } catch (e) {
      throw mapMongoError(e, key);
    }
    if (
      series.chronology &&
      req.issueDate !== undefined &&
      before?.lastIssueDate != null &&
      req.issueDate < before.lastIssueDate
    ) {
      throw new SequencerError(
        'SEQUENCER_CHRONOLOGY_VIOLATION',
        `Issue date ${req.issueDate} is earlier than the last committed one in series ${key.series}; abort the transaction`,
        { details: { tenant: key.tenant, series: key.series, period: key.period } },
      );
    }
    const first = (before?.mark ?? key.start - 1) + 1;
    checkRange(key, first + req.count - 1);
    return buildAllocations(series, req, first);
  };
  return Object.freeze({
    next: async (series: Series, opts: MongoAllocateOptions) =>
      (await allocate(series, 1, opts))[0] as AllocatedNumber,
    nextBatch: allocate,
    lastCommitted: async (series: Series, opts: MongoReadOptions = {}) =>
      (await store.peek(resolveRequest(series, callOptions(opts)).key)).mark,
    async void(series: Series, number: number, opts: MongoVoidOptions) {
      const key = resolveRequest(series, callOptions(opts)).key;
      const record = parseVoid(number, opts?.reason, clock);
      return withSpan('sequencer', 'void', spanAttributes(key), async () => {
        await store.recordVoid(key, record, opts?.session);
        return record;
      });
    },
  });
}
