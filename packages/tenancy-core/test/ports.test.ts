import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryLogger, createUuidV7Generator, cryptoRandom } from '../src/index.js';

describe('ports and ids', () => {
  it('UUIDv7 ids are well formed and strictly increasing within one millisecond', () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const next = createUuidV7Generator(clock);
    const ids = Array.from({ length: 1000 }, () => next());
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    expect(ids[0]!.slice(0, 8)).toBe(
      (Date.parse('2026-01-01T00:00:00Z') / 65536).toString(16).split('.')[0]!.padStart(8, '0'),
    );
  });

  it('cryptoRandom hands out pooled bytes once each: fresh copies, no repeats across pool refills', () => {
    // 10-byte draws (a UUIDv7 tail) across several refills of the 4 KiB pool.
    const draws = Array.from({ length: 2000 }, () => cryptoRandom.bytes(10));
    expect(new Set(draws.map((b) => Buffer.from(b).toString('hex'))).size).toBe(2000);
    const a = cryptoRandom.bytes(16);
    const copy = Uint8Array.from(a);
    a.fill(0); // a caller writing into its bytes cannot change anyone else's
    expect(cryptoRandom.bytes(16)).not.toEqual(copy);
    // Not all-zero and not constant: the pool is filled from the CSPRNG.
    const big = Buffer.concat(draws);
    expect(new Set(big).size).toBeGreaterThan(200);
    // Odd lengths go the direct way and keep its behaviour.
    expect(cryptoRandom.bytes(0)).toHaveLength(0);
    expect(cryptoRandom.bytes(5000)).toHaveLength(5000);
    expect(() => cryptoRandom.bytes(-1)).toThrow(RangeError);
  });

  it('MemoryLogger keeps pino-style calls with child bindings', () => {
    const log = new MemoryLogger();
    log.child({ tenantId: 'acme' }).info({ op: 'x' }, 'done');
    log.warn('plain');
    expect(log.entries).toEqual([
      { level: 'info', msg: 'done', fields: { tenantId: 'acme', op: 'x' } },
      { level: 'warn', msg: 'plain', fields: {} },
    ]);
  });
});
