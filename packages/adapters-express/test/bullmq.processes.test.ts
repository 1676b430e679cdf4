// T5 with BullMQ on the real Redis: a request enqueues a job through tenantQueue; a worker in another
// process (tenantProcessor) runs it in the same tenant and actor. A job whose envelope was tampered with
// (another tenant), forged with another key, or missing is refused with JOB_CONTEXT_INVALID and never runs.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createJobContextCodec, noopAuditPort, runAsTenant } from '@tenantry/core';
import { hasBackend, skipLabel, startChild, stopChildren, useRedisPrefix } from '@tenantry/testkit';
import { Job, Queue, QueueEvents } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenancy, tenantQueue } from '../src/index.js';
import { AUTH, bearer, mint } from './helpers.js';

const script = fileURLToPath(new URL('./workers/bullmq-worker.ts', import.meta.url));

async function startWorker(redisUrl: string, queue: string, keyHex: string): Promise<ChildProcess> {
  return (await startChild(script, [redisUrl, queue, keyHex])).child;
}

describe.skipIf(!hasBackend('redis'))(`BullMQ jobs keep their tenant (T5)${skipLabel('redis')}`, () => {
  const redis = useRedisPrefix();
  const key = randomBytes(32);
  const codec = createJobContextCodec({ signingKey: key });
  let queueName: string;
  let queue: Queue;
  let events: QueueEvents;
  let worker: ChildProcess;
  let log: Redis;
  let app: express.Express;

  beforeAll(async () => {
    queueName = `${redis.prefix()}reports`.replace(/:/g, '-');
    const connection = { url: redis.url() };
    queue = new Queue(queueName, { connection });
    events = new QueueEvents(queueName, { connection });
    await events.waitUntilReady();
    log = new Redis(redis.url());
    worker = await startWorker(redis.url(), queueName, key.toString('hex'));
    const reports = tenantQueue(queue, codec);
    const t = tenancy({ auth: AUTH, audit: noopAuditPort, rateLimit: false });
    app = express();
    app.use(t);
    app.post('/ops/reports', async (req, res) => {
      const job = await reports.add('monthly', { month: String(req.body?.month) });
      res.status(202).json({ id: job.id });
    });
    app.use(t.errors);
  }, 60_000);

  afterAll(async () => {
    await stopChildren([worker]);
    await events?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    await log?.del(`${queueName}:runs`);
    log?.disconnect();
  });

  const finished = async (id: string) => {
    const job = (await Job.fromId(queue, id)) as Job;
    return job.waitUntilFinished(events, 20_000);
  };

  it('runs each job in another process in the tenant and actor of the request that added it', async () => {
    const tenants = ['acme', 'globex', 'initech'];
    const sent = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const tenantId = tenants[i % 3] as string;
        const res = await request(app)
          .post('/ops/reports')
          .set(bearer(await mint({ tenantId, sub: `u-${tenantId}` })))
          .send({ month: `m-${i}` });
        expect(res.status).toBe(202);
        return { tenantId, month: `m-${i}`, id: String(res.body.id) };
      }),
    );
    const results = await Promise.all(sent.map((s) => finished(s.id)));
    results.forEach((r, i) => {
      const s = sent[i] as (typeof sent)[number];
      expect(r).toMatchObject({ tenantId: s.tenantId, actor: `u-${s.tenantId}`, month: s.month });
      expect(r.pid).not.toBe(process.pid);
    });
  }, 60_000);

  it('refuses tampered, forged and missing envelopes before the processor runs', async () => {
    const envelope = runAsTenant({ tenantId: 'acme', actor: { id: 'mallory' } }, () => codec.capture());
    const tampered = structuredClone(envelope) as unknown as { context: { tenantId: string } };
    expect(tampered.context.tenantId).toBe('acme');
    tampered.context.tenantId = 'globex';
    const forged = runAsTenant({ tenantId: 'globex', actor: { id: 'mallory' } }, () =>
      createJobContextCodec({ signingKey: randomBytes(32) }).capture(),
    );
    for (const [month, tenantry] of [
      ['tampered', tampered],
      ['forged', forged],
      ['missing', undefined],
    ] as const) {
      const job = await queue.add('monthly', { month, ...(tenantry ? { tenantry } : {}) } as never, {
        attempts: 1,
      });
      await expect(job.waitUntilFinished(events, 20_000)).rejects.toThrow('JOB_CONTEXT_INVALID');
    }
    const runs = (await log.lrange(`${queueName}:runs`, 0, -1)).map(
      (r) => JSON.parse(r) as { month: string },
    );
    expect(runs.filter((r) => ['tampered', 'forged', 'missing'].includes(r.month))).toEqual([]);
    expect(runs).toHaveLength(30);
  }, 60_000);

  it('refuses to add a job outside a tenant context', async () => {
    const reports = tenantQueue(queue, codec);
    await expect(reports.add('monthly', { month: 'x' })).rejects.toMatchObject({
      code: 'TENANT_CONTEXT_MISSING',
    });
  });
});
