import {
  MemoryLogger,
  MemoryNotificationPort,
  createImpersonation,
  runAsSystem,
  runAsTenant,
} from '@tenantry/core';
import { settledCode } from '@tenantry/core/testing';
import { describe, expect, it } from 'vitest';
import { BatchWriter, type ChainedEvent, createAuditLog } from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';
import { preparedEvents } from '../src/testing/audit-sink-suite.js';
import { asSystem, asTenant, withAppend } from './helpers.js';

/** A real memory sink whose writes fail while `down` is set (fault injection around the store, not a mock of it). */
function flaky(inner = new MemoryAuditSink()) {
  const state = { down: false, calls: 0 };
  const sink = withAppend(
    inner,
    async (events, opts) => {
      state.calls++;
      if (state.down) throw new Error('connection refused');
      return inner.append(events, opts);
    },
    'flaky-memory',
  );
  return { sink, inner, state };
}

describe('audit log delivery', () => {
  it('batches concurrent events into few sink calls and resolves each once stored', async () => {
    const { sink, inner, state } = flaky();
    const log = createAuditLog({ sink, delivery: { mode: 'buffered', maxBatch: 100, lingerMs: 5 } });
    await asTenant('acme', () =>
      Promise.all(
        Array.from({ length: 250 }, () =>
          log.record({ actor: { id: 'u' }, action: 'a.b', outcome: 'success' }),
        ),
      ),
    );
    expect(state.calls).toBeLessThanOrEqual(5);
    expect((await inner.readChain('acme', 0, 1000)).length).toBe(250);
    expect(await asTenant('acme', () => log.verify())).toMatchObject({ ok: true, checked: 250 });
  });

  it('applies backpressure: writers wait while maxPending events are queued', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const inner = new MemoryAuditSink();
    let largestBatch = 0;
    const slow = withAppend(inner, async (events, opts) => {
      largestBatch = Math.max(largestBatch, events.length);
      await gate;
      return inner.append(events, opts);
    });
    const writer = new BatchWriter(slow, { maxBatch: 10, maxPending: 20, lingerMs: 0 });
    const log = createAuditLog({ sink: inner });
    const prepared = await Promise.all(Array.from({ length: 60 }, (_, i) => i)).then((xs) =>
      xs.map((i) => preparedEvents('acme', 1, { metadata: { i } })[0]!),
    );
    let accepted = 0;
    const all = prepared.map((e) => writer.write(e).then(() => accepted++));
    await new Promise((r) => setTimeout(r, 50));
    expect(accepted).toBe(0);
    expect(writer.pending).toBe(20); // bounded: 40 writers are waiting for room
    release();
    await Promise.all(all);
    expect(accepted).toBe(60);
    expect(largestBatch).toBeLessThanOrEqual(10);
    expect(await asTenant('acme', () => log.verify('acme'))).toMatchObject({ ok: true, checked: 60 });
  });

  it('fails closed: record rejects with AUDIT_WRITE_FAILED and logs the failure without event contents', async () => {
    const { sink, state } = flaky();
    const logger = new MemoryLogger();
    const log = createAuditLog({ sink, logger });
    state.down = true;
    await expect(
      asTenant('acme', () =>
        log.record({
          tenantId: 'acme',
          actor: { id: 'u' },
          action: 'secret.rotated',
          outcome: 'success',
          metadata: { note: 'private' },
        }),
      ),
    ).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect(logger.entries.some((e) => e.level === 'error')).toBe(true);
    expect(JSON.stringify(logger.entries)).not.toContain('private');
  });

  it('fails open per action: spooled durably, then replayed in order without duplicates', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { FileSpool } = await import('../src/index.js');
    const dir = await mkdtemp(join(tmpdir(), 'audit-spool-'));
    const { sink, inner, state } = flaky();
    const spool = await FileSpool.open({ dir });
    const log = createAuditLog({
      sink,
      spool,
      failureMode: (action) => (action.startsWith('page.') ? 'open' : 'closed'),
    });
    const ev = (i: number, action = 'page.viewed') => ({
      tenantId: 'acme',
      actor: { id: 'u' },
      action,
      outcome: 'success' as const,
      metadata: { i },
    });
    await asTenant('acme', async () => {
      await log.record(ev(0));
      state.down = true;
      for (let i = 1; i <= 5; i++) await log.record(ev(i)); // accepted via the spool
      await expect(log.record(ev(99, 'secret.rotated'))).rejects.toMatchObject({
        code: 'AUDIT_WRITE_FAILED',
      });
      state.down = false;
      await log.record(ev(6)); // queues behind the spooled ones to keep order
    });
    expect(await log.replaySpool()).toBe(6);
    expect(await log.replaySpool()).toBe(0);
    const stored = await inner.readChain('acme', 0, 100);
    expect(stored.map((e: ChainedEvent) => JSON.parse(e.text).metadata.i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await log.close();
    await spool.close();
  });
});

describe('AuditPort implementation', () => {
  it('records core system scopes and impersonated actions with both people named', async () => {
    const sink = new MemoryAuditSink();
    const log = createAuditLog({ sink });
    const actor = { id: 'billing-job', kind: 'service' as const };
    await runAsSystem({ actor, reason: 'nightly invoicing' }, log.port, async () => undefined);
    const platform = await sink.readChain('$platform', 0, 10);
    expect(platform.map((e) => JSON.parse(e.text).action)).toEqual([
      'system_scope.entered',
      'system_scope.exited',
    ]);
    expect(JSON.parse(platform[0]!.text)).toMatchObject({
      tenantId: null,
      actor: { id: 'billing-job' },
      metadata: { reason: 'nightly invoicing' },
    });

    await runAsTenant(
      {
        tenantId: 'acme',
        actor: { id: 'ann', roles: ['ADMIN'] },
        impersonator: { id: 'sam-support', roles: ['SUPER_ADMIN'] },
        requestId: 'req-42',
      },
      () =>
        log.recordInContext({
          action: 'invoice.voided',
          outcome: 'success',
          targets: [{ type: 'invoice', id: 'INV-1' }],
        }),
    );
    const [e] = await sink.readChain('acme', 0, 10);
    expect(JSON.parse(e!.text)).toMatchObject({
      tenantId: 'acme',
      actor: { id: 'ann' },
      impersonator: { id: 'sam-support' },
      request: { requestId: 'req-42' },
    });
    expect(await asSystem(() => log.verify(null))).toMatchObject({ ok: true, checked: 2 });
    await expect(log.recordInContext({ action: 'x.y', outcome: 'success' })).rejects.toMatchObject({
      code: 'TENANT_CONTEXT_MISSING',
    });
  });

  it('records system scopes entered inside a tenant request (the port accepts platform events anywhere)', async () => {
    const sink = new MemoryAuditSink();
    const log = createAuditLog({ sink, delivery: { mode: 'direct' } });
    await asTenant('acme', () =>
      runAsSystem(
        { actor: { id: 'ops', kind: 'service' }, reason: 'support tooling' },
        log.port,
        async () => {
          await log.record({
            tenantId: 'globex',
            actor: { id: 'ops' },
            action: 'plan.changed',
            outcome: 'success',
          });
        },
      ),
    );
    expect((await sink.readChain('$platform', 0, 10)).map((e) => JSON.parse(e.text).action)).toEqual([
      'system_scope.entered',
      'system_scope.exited',
    ]);
    expect(await sink.readChain('globex', 0, 10)).toHaveLength(1);
  });

  it("records core's impersonation events, which core writes before any tenant context exists", async () => {
    const sink = new MemoryAuditSink();
    const log = createAuditLog({ sink, delivery: { mode: 'direct' } });
    const imp = createImpersonation({ audit: log.port, notifications: new MemoryNotificationPort() });
    // Support staff entering a customer's tenant is cross-tenant work: core requires the system scope.
    await runAsSystem(
      { actor: { id: 'sam', kind: 'user' }, reason: 'support ticket #123' },
      log.port,
      async () => {
        const session = await imp.start({
          support: { id: 'sam', roles: ['SUPER_ADMIN'] },
          tenantId: 'acme',
          target: { id: 'ann', roles: ['USER'] },
          reason: 'Ticket #123: invoice totals wrong',
        });
        await imp.end(session);
      },
    );
    expect((await sink.readChain('acme', 0, 10)).map((e) => JSON.parse(e.text).action)).toEqual([
      'impersonation.started',
      'impersonation.ended',
    ]);
  });

  it('the port refuses, inside tenant A, an event for tenant B (T1 holds for the port too)', async () => {
    const sink = new MemoryAuditSink();
    const log = createAuditLog({ sink, delivery: { mode: 'direct' } });
    const event = {
      tenantId: 'globex',
      actor: { id: 'u', roles: [], kind: 'user' as const },
      action: 'x.y',
      outcome: 'success' as const,
    };
    expect(await asTenant('acme', () => settledCode(log.port.record(event)))).toBe('TENANT_CONTEXT_CONFLICT');
    expect(await asTenant('globex', () => settledCode(log.port.record(event)))).toBe('resolved');
    expect(await sink.readChain('globex', 0, 10)).toHaveLength(1);
  });
});

describe('the platform trail (tenantId: null)', () => {
  it('is written and read only inside the system scope', async () => {
    const log = createAuditLog({ sink: new MemoryAuditSink(), delivery: { mode: 'direct' } });
    const platformEvent = {
      tenantId: null,
      actor: { id: 'ops' },
      action: 'deploy.started',
      outcome: 'success' as const,
    };
    for (const where of [
      <R>(fn: () => Promise<R>) => fn(),
      <R>(fn: () => Promise<R>) => asTenant('acme', fn),
    ]) {
      expect(await where(() => settledCode(log.record(platformEvent)))).toBe('SYSTEM_SCOPE_REQUIRED');
      expect(await where(() => settledCode(log.query({ tenantId: null })))).toBe('SYSTEM_SCOPE_REQUIRED');
      expect(await where(() => settledCode(log.verify(null)))).toBe('SYSTEM_SCOPE_REQUIRED');
      expect(await where(() => settledCode(log.query({ tenantId: '$platform' })))).toBe(
        'SYSTEM_SCOPE_REQUIRED',
      );
    }
    await asSystem(() => log.record(platformEvent));
    const page = await asSystem(() => log.query({ tenantId: null }));
    expect(page.events.map((e) => e.action)).toEqual(['deploy.started']);
    expect(page.events[0]!.tenantId).toBeNull();
  });
});
