// Invariant T1 against audit's own public API: every operation that takes a tenant resolves it with
// core's resolveTenantId (inside tenant A only A; outside any context nothing; inside runAsSystem any).
import { settledCode, tenantIsolationConformance } from '@tenantry/core/testing';
import { runWithoutContext } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { createAuditLog, generateCheckpointKeys } from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';
import { asSystem, asTenant } from './helpers.js';

const keys = generateCheckpointKeys();
const log = createAuditLog({
  sink: new MemoryAuditSink(),
  signingKey: keys.secretKey,
  publicKeys: [keys.publicKey],
  delivery: { mode: 'direct' },
});

describe('@tenantry/audit', () => {
  tenantIsolationConformance(
    () => ({
      tenants: ['iso-a', 'iso-b'],
      operations: [
        {
          name: 'audit.record',
          call: (tenantId) =>
            log.record({ tenantId, actor: { id: 'u1' }, action: 'doc.viewed', outcome: 'success' }),
        },
        { name: 'audit.query', call: (tenantId) => log.query({ tenantId }) },
        {
          name: 'audit.exportTrail',
          call: async (tenantId) => {
            const lines: string[] = [];
            for await (const line of log.exportTrail(tenantId)) lines.push(line);
            return lines;
          },
        },
        { name: 'audit.verify', call: (tenantId) => log.verify(tenantId) },
        { name: 'audit.checkpoint', call: (tenantId) => log.checkpoint(tenantId) },
      ],
    }),
    { describe, it, expect },
  );
});

describe('the isolation hole of issue 10, as a regression', () => {
  it("a request in tenant A cannot read, verify, export or checkpoint B's trail, nor write into it", async () => {
    await asSystem(() =>
      log.record({ tenantId: 'hole-b', actor: { id: 'u2' }, action: 'secret.rotated', outcome: 'success' }),
    );
    await asTenant('hole-a', async () => {
      expect(await settledCode(log.query({ tenantId: 'hole-b' }))).toBe('TENANT_CONTEXT_CONFLICT');
      expect(await settledCode(log.verify('hole-b'))).toBe('TENANT_CONTEXT_CONFLICT');
      expect(await settledCode(log.checkpoint('hole-b'))).toBe('TENANT_CONTEXT_CONFLICT');
      expect(await settledCode((async () => log.exportTrail('hole-b'))())).toBe('TENANT_CONTEXT_CONFLICT');
      expect(
        await settledCode(
          log.record({ tenantId: 'hole-b', actor: { id: 'u1' }, action: 'x.y', outcome: 'success' }),
        ),
      ).toBe('TENANT_CONTEXT_CONFLICT');
      expect((await log.query()).events).toEqual([]);
    });
    const b = await asSystem(() => log.query({ tenantId: 'hole-b' }));
    expect(b.events.map((e) => e.action)).toEqual(['secret.rotated']);
  });

  it("code that left tenant A's context writes A's trail through the port, never B's", async () => {
    const event = (tenantId: string) => ({
      tenantId,
      actor: { id: 'u1', roles: [] as string[], kind: 'user' as const },
      action: 'x.detached',
      outcome: 'success' as const,
    });
    await asTenant('hole-a', async () => {
      await runWithoutContext(async () => {
        expect(await settledCode(log.port.record(event('hole-b')))).toBe('TENANT_CONTEXT_CONFLICT');
        expect(await settledCode(log.port.record(event('hole-a')))).toBe('resolved');
      });
    });
    const b = await asSystem(() => log.query({ tenantId: 'hole-b' }));
    expect(b.events.map((e) => e.action)).not.toContain('x.detached');
    // Outside any context (core writing before a context exists), a named tenant is accepted.
    expect(await settledCode(log.port.record(event('hole-b')))).toBe('resolved');
  });
});
