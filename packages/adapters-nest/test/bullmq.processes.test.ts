// T5 with BullMQ on the real Redis, through Nest (Express and Fastify platforms): a request enqueues a job
// with tenantQueue; a Nest worker in another OS process (@WithTenant() with the module's jobCodec) runs it
// in the same tenant and actor (counted in a Redis list). A tampered, forged or missing envelope is refused
// with JOB_CONTEXT_INVALID and never runs.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Body, HttpCode, Post } from '@nestjs/common';
import { createJobContextCodec, runAsTenant } from '@tenantry/core';
import { hasBackend, skipLabel, startChild, stopChildren, useRedisPrefix } from '@tenantry/testkit';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantQueue } from '../src/index.js';
import { type NestTestApp, type Platform, bearer, buildNestApp, controller, mint } from './helpers.js';

const script = fileURLToPath(new URL('./workers/bullmq-worker.ts', import.meta.url));

describe.skipIf(!hasBackend('redis'))(`Nest: BullMQ jobs keep their tenant (T5)${skipLabel('redis')}`, () => {
  const redis = useRedisPrefix();
  const key = randomBytes(32);
  const codec = createJobContextCodec({ signingKey: key });
  let queueName: string;
  let queue: Queue;
  let events: QueueEvents;
  let worker: ChildProcess | undefined;
  let log: Redis;
  const apps = new Map<Platform, NestTestApp>();

  beforeAll(async () => {
    queueName = `${redis.prefix()}nest-reports`.replace(/:/g, '-');
    const connection = { url: redis.url() };
    queue = new Queue(queueName, { connection });
    events = new QueueEvents(queueName, { connection });
    await events.waitUntilReady();
    log = new Redis(redis.url());
    worker = (await startChild(script, [redis.url(), queueName, key.toString('hex')], 60_000)).child;
    const reports = tenantQueue(queue, codec);
    const Reports = controller('ops/reports', {
      add: {
        decorators: [Post(), HttpCode(202)],
        params: [Body()],
        handler: (async (body: { month?: string }) => {
          const job = await reports.add('monthly', { month: String(body?.month) });
          return { id: job.id };
        }) as never,
      },
    });
    for (const platform of ['express', 'fastify'] as Platform[]) {
      apps.set(platform, await buildNestApp(platform, { jobCodec: codec }, { controllers: [Reports] }));
    }
  }, 90_000);

  afterAll(async () => {
    await stopChildren([worker]);
    for (const a of apps.values()) await a.close();
    await events?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    await log?.del(`${queueName}:runs`);
    log?.disconnect();
  });

  const finished = async (id: string) => {
    const job = (await Job.fromId(queue, id)) as Job;
    return job.waitUntilFinished(events, 30_000);
  };

  it.each(['express', 'fastify'] as Platform[])(
    'runs each job enqueued by a request to Nest on %s in the worker process, in the request’s tenant and actor',
    async (platform) => {
      const app = apps.get(platform) as NestTestApp;
      const tenants = ['acme', 'globex', 'initech'];
      const before = await log.llen(`${queueName}:runs`);
      const sent = await Promise.all(
        Array.from({ length: 15 }, async (_, i) => {
          const tenantId = tenants[i % 3] as string;
          const res = await request(app.app.getHttpServer())
            .post('/ops/reports')
            .set(bearer(await mint({ tenantId, sub: `u-${tenantId}` })))
            .send({ month: `${platform}-${i}` });
          expect(res.status).toBe(202);
          return { tenantId, month: `${platform}-${i}`, id: String(res.body.id) };
        }),
      );
      const results = await Promise.all(sent.map((s) => finished(s.id)));
      results.forEach((r, i) => {
        const s = sent[i] as (typeof sent)[number];
        expect(r).toMatchObject({ tenantId: s.tenantId, actor: `u-${s.tenantId}`, month: s.month });
        expect(r.pid).not.toBe(process.pid);
        expect(r.pid).toBe(worker?.pid);
      });
      // The side effect, counted where the worker wrote it.
      const runs = (await log.lrange(`${queueName}:runs`, before, -1)).map(
        (r) => JSON.parse(r) as { tenantId: string; month: string },
      );
      expect(runs.map((r) => `${r.tenantId}/${r.month}`).sort()).toEqual(
        sent.map((s) => `${s.tenantId}/${s.month}`).sort(),
      );
    },
    60_000,
  );

  it('refuses tampered, forged and missing envelopes before the processor runs', async () => {
    const before = await log.llen(`${queueName}:runs`);
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
      await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow('JOB_CONTEXT_INVALID');
    }
    expect(await log.llen(`${queueName}:runs`)).toBe(before);
  }, 60_000);
});
