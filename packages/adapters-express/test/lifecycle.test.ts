import type { AddressInfo } from 'node:net';
import { MemoryAuditPort, createJobContextCodec, isTenantryError, requireTenant } from '@tenantry/core';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { tenancy, withTenantJob } from '../src/index.js';
import { AUTH, bearer, mint } from './helpers.js';

describe('graceful shutdown', () => {
  it('finishes requests in flight, refuses new ones, then flushes the audit port and closes what it was given', async () => {
    const order: string[] = [];
    const audit = Object.assign(new MemoryAuditPort(), {
      flush: async () => {
        order.push('audit flushed');
      },
    });
    const t = tenancy({
      auth: AUTH,
      audit,
      rateLimit: false,
      closeOnShutdown: [{ close: async () => void order.push('pool closed') }],
    });
    const app = express();
    app.use(t);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    app.post('/ops/slow', async (_req, res) => {
      await gate;
      res.status(201).json({ tenantId: requireTenant().tenantId });
    });
    app.use(t.errors);
    const server = t.manage(app.listen(0, '127.0.0.1'));
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const headers = bearer(await mint());
    const slow = fetch(`${base}/ops/slow`, { method: 'POST', headers });
    await new Promise((r) => setTimeout(r, 100));
    const closing = t.close();
    // New requests reaching the app while it drains (here through a second, unmanaged listener) are refused.
    const side = app.listen(0, '127.0.0.1');
    await new Promise((r) => side.once('listening', r));
    const sideRes = await fetch(`http://127.0.0.1:${(side.address() as AddressInfo).port}/ops/x`, {
      headers,
    });
    const refused = { status: sideRes.status, code: ((await sideRes.json()) as { code: string }).code };
    expect(sideRes.headers.get('connection')).toBe('close');
    side.close();
    expect(refused).toEqual({ status: 503, code: 'HTTP_SHUTTING_DOWN' });
    order.push('releasing');
    release();
    const res = await slow;
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ tenantId: 'acme' });
    await closing;
    expect(order).toEqual(['releasing', 'audit flushed', 'pool closed']);
    expect(audit.events.map((e) => e.metadata?.status)).toEqual([201]);
    expect(server.listening).toBe(false);
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });
});

describe('background work keeps its tenant (T5)', () => {
  it('runs a job in the tenant captured at enqueue time, and refuses a tampered envelope', async () => {
    const codec = createJobContextCodec({ signingKey: new Uint8Array(32).fill(7) });
    const queue: unknown[] = [];
    const t = tenancy({ auth: AUTH, audit: new MemoryAuditPort(), rateLimit: false });
    const app = express();
    app.use(t);
    app.post('/ops/reports', (req, res) => {
      queue.push({ month: req.body.month, tenantry: codec.capture() });
      res.status(202).end();
    });
    app.use(t.errors);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await fetch(`${base}/ops/reports`, {
      method: 'POST',
      headers: {
        ...bearer(await mint({ tenantId: 'globex', sub: 'u-5' })),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ month: '2026-11' }),
    });
    server.close();
    const seen: string[] = [];
    const run = withTenantJob(codec, async (job: { month: string }, ctx) => {
      await new Promise((r) => setTimeout(r, 1));
      seen.push(`${requireTenant().tenantId}/${ctx.actor.id}/${job.month}`);
    });
    const job = queue[0] as { month: string; tenantry: { context: { tenantId: string } } };
    await run(job as never);
    expect(seen).toEqual(['globex/u-5/2026-11']);
    const tampered = structuredClone(job);
    tampered.tenantry.context.tenantId = 'acme';
    const err = await run(tampered as never).catch((e: unknown) => e);
    expect(isTenantryError(err, 'JOB_CONTEXT_INVALID')).toBe(true);
    expect(await run({ month: 'x' } as never).catch((e: unknown) => (e as { code: string }).code)).toBe(
      'JOB_CONTEXT_INVALID',
    );
    expect(seen).toHaveLength(1);
  });
});
