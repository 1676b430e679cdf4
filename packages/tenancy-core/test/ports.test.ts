import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryLogger, createUuidV7Generator } from '../src/index.js';

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
