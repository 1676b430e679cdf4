import { errorCodeSpec, isTenantryError, runAsTenant } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { defineSeries, SequencerError, SequencerErrorCodes } from '../src/index.js';
import { createPostgresSequencer } from '../src/postgres.js';
import { mapPgError } from '../src/backends/postgres/errors.js';

const key = { tenant: 'acme', series: 'invoice', period: '', start: 1 };
const mapped = (e: unknown) => {
  const m = mapPgError(e, key, 100);
  return isTenantryError(m) ? `${m.code}/${m.status}/${m.retryable}` : 'raw';
};

describe('sequencer error codes', () => {
  it('declares every code once with the package prefix and an HTTP status, registered with core', () => {
    for (const [code, spec] of Object.entries(SequencerErrorCodes)) {
      expect(code.startsWith('SEQUENCER_')).toBe(true);
      expect(errorCodeSpec(code)).toEqual({ retryable: false, ...spec });
    }
    expect('TENANT_CONTEXT_CONFLICT' in SequencerErrorCodes).toBe(false);
    const e = new SequencerError('SEQUENCER_LOCK_TIMEOUT', 'x');
    expect([e.status, e.retryable]).toEqual([503, true]);
  });

  it('maps PostgreSQL failures to typed codes, keeping the driver error as cause and out of the message', () => {
    const driver = Object.assign(new Error('secret-ish driver text'), { code: '40P01' });
    expect(mapped(driver)).toBe('SEQUENCER_SERIALIZATION_FAILURE/503/true');
    expect(mapped({ code: '40001' })).toBe('SEQUENCER_SERIALIZATION_FAILURE/503/true');
    expect(mapped({ code: '55P03' })).toBe('SEQUENCER_LOCK_TIMEOUT/503/true');
    expect(mapped({ code: '42P01' })).toBe('SEQUENCER_NOT_MIGRATED/500/false');
    expect(mapped({ code: 'ECONNREFUSED' })).toBe('SEQUENCER_STORE_UNAVAILABLE/503/true');
    expect(mapped({ code: '57P01' })).toBe('SEQUENCER_STORE_UNAVAILABLE/503/true');
    expect(mapped(new Error('Connection terminated unexpectedly'))).toBe(
      'SEQUENCER_STORE_UNAVAILABLE/503/true',
    );
    expect(mapped({ code: '22003' })).toBe('SEQUENCER_STORE_FAILED/500/false');
    expect(mapped(undefined)).toBe('SEQUENCER_STORE_FAILED/500/false');
    const m = mapPgError(driver, key, 0) as SequencerError;
    expect(m.cause).toBe(driver);
    expect(m.message).not.toContain('secret-ish');
    const own = new SequencerError('SEQUENCER_FENCED', 'x');
    expect(mapPgError(own, key, 0)).toBe(own);
  });

  it('SEQUENCER_NOT_IN_TRANSACTION names the @tenantry/core wrapper when handed a raw query-builder transaction', async () => {
    const seq = createPostgresSequencer();
    const s = defineSeries({ key: 'invoice' });
    const message = (tx: unknown) =>
      runAsTenant({ tenantId: 'acme', actor: { id: 'u' } }, () => seq.next(s, { tx: tx as never })).then(
        () => 'resolved',
        (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
      );
    const fn = () => undefined;
    const kysely = { selectFrom: fn, insertInto: fn, transaction: fn };
    const drizzle = { select: fn, insert: fn, execute: fn, transaction: fn };
    const postgresJs = Object.assign(() => undefined, { unsafe: fn, begin: fn });
    expect(await message(kysely)).toMatch(/^SEQUENCER_NOT_IN_TRANSACTION: .*fromKysely\(trx\)/);
    expect(await message(drizzle)).toMatch(/^SEQUENCER_NOT_IN_TRANSACTION: .*fromDrizzle\(tx\)/);
    expect(await message(postgresJs)).toMatch(/^SEQUENCER_NOT_IN_TRANSACTION: .*fromPostgresJs\(sql\)/);
    // A pg client outside BEGIN: the BEGIN advice, and the wrappers named for the other kinds.
    expect(await message({ query: fn, getTransactionStatus: () => 'I' })).toMatch(
      /outside any transaction block.*BEGIN.*fromKysely/,
    );
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
      },
    );
    expect(await message(hostile)).toMatch(/^SEQUENCER_NOT_IN_TRANSACTION|boom/);
  });
});
