import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';
import { preparedEvents } from '../src/testing/audit-sink-suite.js';
import { withAppend } from './helpers.js';

describe('BatchWriter', () => {
  it("rejects with AUDIT_BUFFER_FULL instead of waiting when whenFull is 'reject'", async () => {
    const inner = new MemoryAuditSink();
    const gate = new Promise<void>(() => undefined); // never opens
    const writer = new BatchWriter(
      withAppend(inner, async () => gate.then(() => [])),
      { maxPending: 2, lingerMs: 0, whenFull: 'reject' },
    );
    void writer.write(preparedEvents('acme', 1)[0]!).catch(() => undefined);
    void writer.write(preparedEvents('acme', 1)[0]!).catch(() => undefined);
    await expect(writer.write(preparedEvents('acme', 1)[0]!)).rejects.toMatchObject({
      code: 'AUDIT_BUFFER_FULL',
    });
  });
});
