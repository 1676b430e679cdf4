import { errorCodeSpec, isTenantryError } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import {
  AuditError,
  AuditErrorCodes,
  EMPTY_HEAD,
  FileSpool,
  chainBatch,
  decodeStored,
  diffChanges,
  eventIndexOf,
  hashEvent,
  isReadable,
  markSensitive,
  prepareEvent,
  sensitiveFieldsOf,
  verifyEvents,
  checkpointKeyId,
  createAuditLog,
  createMasker,
  createFanOutSink,
  generateCheckpointKeys,
  signCheckpoint,
  verifyExport,
} from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';
import { MongoAuditSink, ensureAuditIndexes } from '../src/mongo.js';
import { PostgresAuditSink, auditChainGuardSql, auditGrantsSql, auditMigrationSql } from '../src/postgres.js';
import { StdoutAuditSink, parseAuditLines, verifyAuditLines } from '../src/stdout.js';

/** The code a call fails with: every public boundary throws a TenantryError with a code. */
async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return isTenantryError(e) ? e.code : `untyped: ${String(e)}`;
  }
}

describe('error codes', () => {
  it('every AUDIT_ code has its HTTP status registered with core, so adapters map it generically', () => {
    for (const [code, spec] of Object.entries(AuditErrorCodes)) {
      expect(code.startsWith('AUDIT_'), code).toBe(true);
      expect(errorCodeSpec(code)).toEqual({ retryable: false, ...spec });
    }
    expect(errorCodeSpec('AUDIT_WRITE_FAILED')).toMatchObject({ status: 503, retryable: true });
    expect(errorCodeSpec('AUDIT_EVENT_TOO_LARGE').status).toBe(413);
  });

  it('malformed inputs at the public boundary are Tenantry errors with a code, never raw TypeErrors', async () => {
    const sink = new MemoryAuditSink();
    const cases: Array<[string, () => unknown, string]> = [
      ['fan-out without sinks', () => createFanOutSink([]), 'VALIDATION_FAILED'],
      [
        'fan-out with a foreign primary',
        () => createFanOutSink([sink], { primary: new MemoryAuditSink() }),
        'VALIDATION_FAILED',
      ],
      ['log without a sink', () => createAuditLog(undefined as never), 'VALIDATION_FAILED'],
      ['log with a bad signing key', () => createAuditLog({ sink, signingKey: 'xyz' }), 'VALIDATION_FAILED'],
      ['log with a bad public key', () => createAuditLog({ sink, publicKeys: ['00'] }), 'VALIDATION_FAILED'],
      ['key id of a bad key', () => checkpointKeyId('not hex'), 'VALIDATION_FAILED'],
      [
        'signing with a bad key',
        () => signCheckpoint('acme', { seq: 1, hash: '0'.repeat(64), recordedAt: 1 }, 'zz', 1),
        'VALIDATION_FAILED',
      ],
      ['export that is not JSON', () => verifyExport(['{nope'], { publicKeys: [] }), 'AUDIT_EXPORT_INVALID'],
      ['export without header', () => verifyExport([], { publicKeys: [] }), 'AUDIT_EXPORT_INVALID'],
      [
        'postgres names',
        () => new PostgresAuditSink({ pool: {} as never, schema: 'x"; --' }),
        'VALIDATION_FAILED',
      ],
      ['grants for a bad role', () => auditGrantsSql('a b'), 'VALIDATION_FAILED'],
      [
        'mongo prefix',
        () => new MongoAuditSink({ db: { collection: () => ({}) } as never, prefix: 'a.b' }),
        'VALIDATION_FAILED',
      ],
      ['spool without dir', () => FileSpool.open({ dir: '' }), 'VALIDATION_FAILED'],
      [
        'spool in an unusable dir',
        () => FileSpool.open({ dir: '/proc/version/spool' }),
        'AUDIT_SPOOL_FAILED',
      ],
    ];
    for (const [what, fn, code] of cases) expect(`${what}: ${await codeOf(fn)}`).toBe(`${what}: ${code}`);
    const keys = generateCheckpointKeys();
    expect(
      await codeOf(() => createAuditLog({ sink, signingKey: keys.secretKey, publicKeys: [keys.publicKey] })),
    ).toBe('ok');
  });

  it('a failing sink behind a fan-out is reported as AUDIT_WRITE_FAILED with the cause kept', async () => {
    const broken = {
      name: 'broken',
      capabilities: { readable: false, sharedChain: false, checkpoints: false },
      append: async () => {
        throw new TypeError('driver exploded: secret=42');
      },
    };
    const fan = createFanOutSink([new MemoryAuditSink(), broken]);
    const error = await fan.append([]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'AUDIT_WRITE_FAILED', details: { sink: 'broken' } });
    expect((error as Error).message).not.toContain('secret');
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('hostile inputs to the pure functions fail with VALIDATION_FAILED before any walk, never a TypeError', async () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    const deep = (() => {
      let o: Record<string, unknown> = {};
      for (let i = 0; i < 10_000; i++) o = { a: o };
      return o;
    })();
    const sym = Symbol('hostile');
    const cases: Array<[string, () => unknown]> = [
      ['index of undefined', () => eventIndexOf(undefined as never)],
      ['index of a body with null targets', () => eventIndexOf({ actor: {}, targets: [null] } as never)],
      [
        'prepare without deps',
        () =>
          prepareEvent(
            { tenantId: 'acme', actor: {}, action: 'a', targets: [] } as never,
            undefined as never,
          ),
      ],
      ['prepare with a string', () => prepareEvent(huge as never, huge as never)],
      [
        // Without an outcome the event text would not be JSON (it was once written `"outcome":,`).
        'prepare without an outcome',
        () =>
          prepareEvent(
            {
              tenantId: 'acme',
              actor: { id: 'a', roles: [], kind: 'user' },
              action: 'a.b',
              targets: [],
            } as never,
            {
              id: 'i',
              now: 1,
              masker: createMasker(),
              limits: { maxMetadataBytes: 8192, maxChangesBytes: 32768 },
            },
          ),
      ],
      ['diff of a 10 MB string', () => diffChanges(huge as never, {})],
      ['diff of null', () => diffChanges({}, null as never)],
      ['hash with a symbol', () => hashEvent(sym as never, 1, 1, 'p', 't')],
      ['chain a 10 MB string', () => chainBatch(EMPTY_HEAD, huge as never, 1)],
      ['chain after a null head', () => chainBatch(null as never, [], 1)],
      ['chain with a bigint time', () => chainBatch(EMPTY_HEAD, [], 10n as never)],
      ['verify a 10 MB string of batches', () => verifyEvents('acme', huge as never)],
      ['verify batches that are not arrays', () => verifyEvents('acme', [1, 'a', null] as never)],
      ['verify with null options', () => verifyEvents('acme', [], null as never)],
      ['verify a deep object', () => verifyEvents(deep as never, deep as never)],
      ['export with no options', () => verifyExport([], undefined as never)],
      ['export of a string', () => verifyExport(huge as never, { publicKeys: [] })],
      ['decode a 10 MB string', () => decodeStored(huge as never)],
      ['decode a text that is not JSON', () => decodeStored({ text: 'nope' } as never)],
      ['mark a primitive', () => markSensitive(-1 as never, 'ssn')],
      ['mark a symbol field', () => markSensitive({}, sym as never)],
      ['parse a 10 MB string of lines', () => parseAuditLines(huge as never)],
      ['verify lines that are not iterable', () => verifyAuditLines({} as never)],
      ['stdout sink with null options', () => new StdoutAuditSink(null as never)],
      ['stdout sink writing to a string', () => new StdoutAuditSink({ destination: huge as never })],
      ['stdout sink with a symbol msg', () => new StdoutAuditSink({ msg: sym as never })],
    ];
    for (const [what, fn] of cases) {
      const started = performance.now();
      expect(`${what}: ${await codeOf(fn)}`).toBe(`${what}: VALIDATION_FAILED`);
      expect(performance.now() - started, what).toBeLessThan(500);
    }
    // An export header must name its chain as a string (a hostile toString cannot throw a TypeError).
    const header = JSON.stringify({ type: 'header', chain: { toString: 1, valueOf: 1 } });
    expect(await codeOf(() => verifyExport([header], { publicKeys: [] }))).toBe('AUDIT_EXPORT_INVALID');
    // Lines that are not strings, or audit lines with fields of the wrong type, are skipped as damaged.
    const odd = JSON.stringify({ audit: { hash: 'h', stream: { toString: 1 }, chain: 'acme', seq: 1 } });
    expect(parseAuditLines([1, null, ['{'], odd] as never).size).toBe(0);
    expect(await verifyAuditLines([sym, odd] as never)).toEqual([]);
    // Answers, not errors, where the question has one.
    expect(isReadable(null as never)).toBe(false);
    expect(isReadable({ capabilities: null } as never)).toBe(false);
    expect(sensitiveFieldsOf(undefined as never)).toBeUndefined();
    // A refused call marks nothing: the valid field before the bad one is not registered.
    const target = {};
    expect(await codeOf(() => markSensitive(target, 'ssn', sym as never))).toBe('VALIDATION_FAILED');
    expect(sensitiveFieldsOf(target)).toBeUndefined();
  });

  it('AuditError never throws on odd arguments, and keeps a code', () => {
    const sym = Symbol('hostile');
    const e1 = new AuditError(sym as never, sym as never, sym as never);
    expect(e1.code).toBe('VALIDATION_FAILED');
    expect(e1.message).toBe('hostile');
    const e2 = new AuditError('AUDIT_CLOSED', 10n as never, { details: 'x'.repeat(1000) as never });
    expect(e2).toMatchObject({ code: 'AUDIT_CLOSED', message: '10', details: {} });
    const e3 = new AuditError('AUDIT_CLOSED', Object.create(null), null as never);
    expect(isTenantryError(e3, 'AUDIT_CLOSED')).toBe(true);
    expect(e3.message).toBe('');
  });

  it('sink constructors and the spool check their options structurally: VALIDATION_FAILED, never a TypeError', async () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    const sym = Symbol('hostile');
    const cases: Array<[string, () => unknown]> = [
      ['memory sink with null options', () => new MemoryAuditSink(null as never)],
      ['memory sink with a clock without now', () => new MemoryAuditSink({ clock: {} as never })],
      ['postgres sink without options', () => new PostgresAuditSink(undefined as never)],
      ['postgres sink without a pool', () => new PostgresAuditSink({} as never)],
      ['postgres sink with a string pool', () => new PostgresAuditSink({ pool: huge as never })],
      ['postgres migration for null names', () => auditMigrationSql(null as never)],
      ['postgres chain guard for a number', () => auditChainGuardSql(-1 as never)],
      ['mongo sink without options', () => new MongoAuditSink(undefined as never)],
      ['mongo sink without a db', () => new MongoAuditSink({ db: {} as never })],
      [
        'mongo sink with a symbol prefix',
        () => new MongoAuditSink({ db: { collection: () => ({}) } as never, prefix: sym as never }),
      ],
      ['mongo indexes without a db', () => ensureAuditIndexes(null as never)],
      [
        'mongo indexes with null options',
        () => ensureAuditIndexes({ collection: () => ({}) } as never, null as never),
      ],
      [
        'spool built without open',
        () => new (FileSpool as unknown as new (...a: unknown[]) => unknown)(huge, huge),
      ],
      [
        'spool with a bigint bound',
        () => FileSpool.open({ dir: '/tmp/never-created', maxBytes: 10n as never }),
      ],
    ];
    for (const [what, fn] of cases) {
      const started = performance.now();
      expect(`${what}: ${await codeOf(fn)}`).toBe(`${what}: VALIDATION_FAILED`);
      expect(performance.now() - started, what).toBeLessThan(500);
    }
  });
});
