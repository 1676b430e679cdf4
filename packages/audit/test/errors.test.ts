import { errorCodeSpec, isTenantryError } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import {
  AuditErrorCodes,
  FileSpool,
  checkpointKeyId,
  createAuditLog,
  createFanOutSink,
  generateCheckpointKeys,
  signCheckpoint,
  verifyExport,
} from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';
import { MongoAuditSink } from '../src/mongo.js';
import { PostgresAuditSink, auditGrantsSql } from '../src/postgres.js';

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
      expect(errorCodeSpec(code)).toEqual({ retryable: undefined, ...spec });
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
});
