// Every export of the package root and of each subpath, fed hostile inputs, fails with a Tenantry error
// that carries a code (or returns normally): never a raw TypeError, RangeError or driver error.
import { isTenantryError, runAsTenant } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import * as root from '../src/index.js';
import * as memory from '../src/memory.js';
import * as mongo from '../src/mongo.js';
import * as postgres from '../src/postgres.js';
import * as redis from '../src/redis.js';

const HUGE = 'x'.repeat(10 * 1024 * 1024);
const HOSTILE: unknown[] = [
  undefined,
  null,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1,
  1.5,
  10n,
  Symbol('s'),
  '',
  HUGE,
  '\uD800',
  'a\u0000b',
  new Date(Number.NaN),
  {},
  [],
  () => undefined,
  { tenant: null, series: 42, period: {}, start: Number.NaN },
  new Proxy(
    {},
    {
      get() {
        throw new Error('hostile getter');
      },
    },
  ),
];

/** 'ok', 'typed:<CODE>', or 'untyped:<what escaped>' for a call that may throw or reject. */
async function outcome(fn: () => unknown): Promise<string> {
  try {
    const r = fn();
    if (r instanceof Promise) await r;
    return 'ok';
  } catch (e) {
    return isTenantryError(e)
      ? `typed:${e.code}`
      : `untyped:${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 80)}`;
  }
}

const inTenant = <R>(fn: () => R): R => runAsTenant({ tenantId: 'hostile', actor: { id: 'u' } }, fn);

/** Call `fn` with every hostile value in each argument position (others valid-ish). */
async function feed(name: string, fn: (...a: unknown[]) => unknown, arity: number, valid: unknown[]) {
  const bad: string[] = [];
  for (let pos = 0; pos < Math.max(arity, 1); pos++) {
    for (const h of HOSTILE) {
      const args = valid.slice();
      args[pos] = h;
      const o = await inTenant(() => outcome(() => fn(...args)));
      if (o.startsWith('untyped')) bad.push(`${name} arg${pos}=${describeValue(h)}: ${o}`);
    }
  }
  return bad;
}

const describeValue = (v: unknown): string => {
  try {
    if (typeof v === 'string') return v.length > 20 ? `string(${v.length})` : JSON.stringify(v);
    if (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function') return typeof v;
    if (v instanceof Date) return 'Invalid Date';
    return JSON.stringify(v) ?? String(v);
  } catch {
    return 'proxy';
  }
};

const series = root.defineSeries({ key: 'invoice' });
const key = { tenant: 'hostile', series: 'invoice', period: '', start: 1 };
const fakePool = {
  query: async () => ({ rows: [], rowCount: 0 }),
  connect: async () => ({
    query: async () => ({ rows: [{ fence: '1' }], rowCount: 1 }),
    release: () => undefined,
  }),
};
const fakeRedis = {
  eval: async () => [1, '', ''],
  evalsha: async () => [1, '', ''],
  get: async () => null,
  del: async () => 0,
};
const fakeDb = {
  collection: () => ({
    findOne: async () => null,
    findOneAndUpdate: async () => null,
    updateOne: async () => ({ matchedCount: 1, upsertedCount: 0 }),
    insertOne: async () => ({}),
    createIndex: async () => 'ok',
    find: () => ({ sort: () => ({ toArray: async () => [] }) }),
  }),
};

describe('hostile inputs to every export', () => {
  it('the cases of issue 11 give the documented codes', async () => {
    const code = (fn: () => unknown) => outcome(fn);
    expect(await code(() => root.parseFormat(''))).toBe('typed:VALIDATION_FAILED');
    expect(await code(() => root.periodKey('yearly', undefined))).toBe('typed:SEQUENCER_ISSUE_DATE_REQUIRED');
    expect(await code(() => root.toCalendarDate(new Date(Number.NaN), 'UTC'))).toBe(
      'typed:VALIDATION_FAILED',
    );
    for (const bad of [Number.NaN, 10n, Symbol('s'), HUGE, '\uD800', new Date(Number.NaN)]) {
      for (const field of ['key', 'period', 'start', 'format', 'prefix', 'chronology', 'timeZone']) {
        const input = { key: 'invoice', [field]: bad };
        expect(`${field}: ${await code(() => root.defineSeries(input as never))}`).toBe(
          `${field}: typed:VALIDATION_FAILED`,
        );
      }
    }
    expect(await code(() => root.defineSeries({ key: 'invoice', prefix: 'A\uDC00' }))).toBe(
      'typed:VALIDATION_FAILED',
    );
    expect(await code(() => root.defineSeries({ key: 'invoice', prefix: 'A\uD83D\uDE00' }))).toBe('ok');
  });

  it('the package root', async () => {
    const bad: string[] = [];
    bad.push(...(await feed('defineSeries', root.defineSeries as never, 1, [{ key: 'k' }])));
    bad.push(...(await feed('parseFormat', root.parseFormat as never, 1, ['{n}'])));
    bad.push(
      ...(await feed('formatNumber', root.formatNumber as never, 2, [
        root.parseFormat('{n}'),
        { prefix: '', series: 's', tenant: 't', period: '', issueDate: undefined, number: 1 },
      ])),
    );
    bad.push(...(await feed('periodKey', root.periodKey as never, 2, ['yearly', '2026-01-01'])));
    bad.push(...(await feed('toCalendarDate', root.toCalendarDate as never, 2, [new Date(), 'UTC'])));
    bad.push(...(await feed('findGapsAndDuplicates', root.findGapsAndDuplicates as never, 2, [[1, 2], 1])));
    bad.push(...(await feed('isGapless', root.isGapless as never, 1, [root.findGapsAndDuplicates([1])])));
    bad.push(...(await feed('isDuplicateKeyError', root.isDuplicateKeyError as never, 1, [new Error('x')])));
    bad.push(...(await feed('counterResource', root.counterResource as never, 1, [key])));
    bad.push(
      ...(await feed('createLockedSequencer', root.createLockedSequencer as never, 1, [
        {
          lock: new memory.MemoryLockBackend(),
          store: new memory.MemoryCounterStore(),
          highestCommitted: async () => null,
        },
      ])),
    );
    const seq = root.createLockedSequencer({
      lock: new memory.MemoryLockBackend(),
      store: new memory.MemoryCounterStore(),
      highestCommitted: async () => null,
    });
    const write = async () => undefined;
    bad.push(...(await feed('withNumber', seq.withNumber as never, 3, [series, {}, write])));
    bad.push(...(await feed('withNumbers', seq.withNumbers as never, 3, [series, { count: 2 }, write])));
    bad.push(...(await feed('lastCommitted', seq.lastCommitted as never, 2, [series, {}])));
    bad.push(...(await feed('void', seq.void as never, 3, [series, 1, { reason: 'r' }])));
    bad.push(...(await feed('voids', seq.voids as never, 2, [series, {}])));
    bad.push(...(await feed('close', seq.close as never, 0, [])));
    bad.push(
      ...(await feed(
        'SequencerError',
        ((...a: unknown[]) => new root.SequencerError(...(a as [never, never]))) as never,
        2,
        ['SEQUENCER_FENCED', 'm'],
      )),
    );
    expect(bad).toEqual([]);
  });

  it('the memory backends', async () => {
    const bad: string[] = [];
    const store = new memory.MemoryCounterStore();
    const lock = new memory.MemoryLockBackend();
    bad.push(
      ...(await feed('MemoryLockBackend', ((o: never) => new memory.MemoryLockBackend(o)) as never, 1, [{}])),
    );
    bad.push(...(await feed('store.read', store.read.bind(store) as never, 2, [key, 1])));
    bad.push(...(await feed('store.peek', store.peek.bind(store) as never, 1, [key])));
    bad.push(
      ...(await feed('store.advance', store.advance.bind(store) as never, 2, [
        key,
        { from: null, to: 1, fence: 1 },
      ])),
    );
    bad.push(
      ...(await feed('store.recover', store.recover.bind(store) as never, 2, [
        key,
        { committed: 1, fence: 1 },
      ])),
    );
    bad.push(
      ...(await feed('store.recordVoid', store.recordVoid.bind(store) as never, 2, [
        key,
        { number: 1, reason: 'r', voidedAt: new Date() },
      ])),
    );
    bad.push(...(await feed('store.listVoids', store.listVoids.bind(store) as never, 1, [key])));
    bad.push(
      ...(await feed('lock.acquire', lock.acquire.bind(lock) as never, 2, [key, { ttlMs: 100, waitMs: 0 }])),
    );
    expect(bad).toEqual([]);
  });

  it('the PostgreSQL, Redis and Mongo subpaths (with stand-in clients)', async () => {
    const bad: string[] = [];
    bad.push(...(await feed('createPostgresSequencer', postgres.createPostgresSequencer as never, 1, [{}])));
    const pg = postgres.createPostgresSequencer();
    const tx = { query: fakePool.query, getTransactionStatus: () => 'T' };
    bad.push(
      ...(await feed('createPostgresSequencer+combine', postgres.createPostgresSequencer as never, 1, [
        { pool: fakePool, combine: { maxGroupSize: 4 } },
      ])),
    );
    for (const combine of [undefined, { maxGroupSize: 4, maxWaitMs: 1 }]) {
      const wn = postgres.createPostgresSequencer({ pool: fakePool as never, combine });
      bad.push(...(await feed('pg.withNumber', wn.withNumber as never, 3, [series, {}, async () => 1])));
    }
    bad.push(...(await feed('pg.next', pg.next as never, 2, [series, { tx }])));
    bad.push(...(await feed('pg.nextBatch', pg.nextBatch as never, 3, [series, 2, { tx }])));
    bad.push(...(await feed('pg.void', pg.void as never, 3, [series, 1, { tx, reason: 'r' }])));
    bad.push(...(await feed('pg.lastCommitted', pg.lastCommitted as never, 2, [series, { db: fakePool }])));
    bad.push(...(await feed('pg.voids', pg.voids as never, 2, [series, { db: fakePool }])));
    bad.push(
      ...(await feed('scanPostgresDocuments', postgres.scanPostgresDocuments as never, 2, [
        fakePool,
        { table: 't', series: 's' },
      ])),
    );
    bad.push(
      ...(await feed(
        'PostgresCounterStore',
        ((o: never) => new postgres.PostgresCounterStore(o)) as never,
        1,
        [{ pool: fakePool }],
      )),
    );
    bad.push(
      ...(await feed('PostgresLockBackend', ((o: never) => new postgres.PostgresLockBackend(o)) as never, 1, [
        { pool: fakePool },
      ])),
    );
    const pgStore = new postgres.PostgresCounterStore({ pool: fakePool });
    bad.push(...(await feed('pgStore.read', pgStore.read.bind(pgStore) as never, 2, [key, 1])));
    bad.push(
      ...(await feed('pgStore.advance', pgStore.advance.bind(pgStore) as never, 2, [
        key,
        { from: null, to: 1, fence: 1 },
      ])),
    );
    bad.push(
      ...(await feed(
        'RedisSequencerBackend',
        ((o: never) => new redis.RedisSequencerBackend(o)) as never,
        1,
        [{ redis: fakeRedis }],
      )),
    );
    const rb = new redis.RedisSequencerBackend({ redis: fakeRedis });
    bad.push(...(await feed('redis.read', rb.read.bind(rb) as never, 2, [key, 1])));
    bad.push(...(await feed('redis.keys', rb.keys.bind(rb) as never, 1, [key])));
    bad.push(
      ...(await feed('redis.recordVoid', rb.recordVoid.bind(rb) as never, 2, [
        key,
        { number: 1, reason: 'r', voidedAt: new Date() },
      ])),
    );
    bad.push(
      ...(await feed('MongoCounterStore', ((o: never) => new mongo.MongoCounterStore(o)) as never, 1, [
        { db: fakeDb },
      ])),
    );
    bad.push(
      ...(await feed('MongoLockBackend', ((o: never) => new mongo.MongoLockBackend(o)) as never, 1, [
        { db: fakeDb },
      ])),
    );
    bad.push(
      ...(await feed('createMongoSequencer', mongo.createMongoSequencer as never, 1, [{ db: fakeDb }])),
    );
    bad.push(...(await feed('ensureSequencerIndexes', mongo.ensureSequencerIndexes as never, 1, [fakeDb])));
    const ms = mongo.createMongoSequencer({ db: fakeDb as never });
    bad.push(...(await feed('mongo.next', ms.next as never, 2, [series, { session: {} }])));
    bad.push(...(await feed('mongo.void', ms.void as never, 3, [series, 1, { reason: 'r' }])));
    expect(bad).toEqual([]);
  });
});
