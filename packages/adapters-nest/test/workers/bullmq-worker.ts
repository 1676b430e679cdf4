// A Nest BullMQ worker process: a Nest application context whose TenancyModule holds the job codec, and a
// provider whose process(job) is marked @WithTenant() (the module's codec restores the context carried in
// job.data). Records what ran, as whom, in a Redis list. argv: <redisUrl> <queue> <keyHex>.
// Prints {"ready":true} once the worker listens; closes on SIGTERM.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createJobContextCodec, isTenantryError, noopAuditPort, requireTenant } from '@tenantry/core';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { TenancyModule, WithTenant } from '../../src/index.js';
import { AUTH } from '../helpers.js';

const [redisUrl = 'redis://127.0.0.1:6379', queueName = 'q', keyHex = ''] = process.argv.slice(2);
const log = new Redis(redisUrl);

class ReportsProcessor {
  async process(job: { data: { month: string } }): Promise<Record<string, unknown>> {
    await new Promise((r) => setTimeout(r, Math.random() * 5));
    const ctx = requireTenant();
    const ran = { tenantId: ctx.tenantId, actor: ctx.actor.id, month: job.data.month, pid: process.pid };
    await log.rpush(`${queueName}:runs`, JSON.stringify(ran));
    return ran;
  }
}
// Applied as a call (no decorator syntax in this repository's sources); no codec: the module's jobCodec.
const desc = Object.getOwnPropertyDescriptor(ReportsProcessor.prototype, 'process') as PropertyDescriptor;
WithTenant()(ReportsProcessor.prototype, 'process', desc);
Object.defineProperty(ReportsProcessor.prototype, 'process', desc);

const WorkerModule = class {};
Reflect.decorate(
  [
    Module({
      imports: [
        TenancyModule.forRoot({
          auth: AUTH,
          audit: noopAuditPort,
          jobCodec: createJobContextCodec({ signingKey: Buffer.from(keyHex, 'hex') }),
        }),
      ],
      providers: [ReportsProcessor],
    }) as ClassDecorator,
  ],
  WorkerModule,
);

async function main(): Promise<void> {
  const ctx = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
  const processor = ctx.get(ReportsProcessor);
  const worker = new Worker(
    queueName,
    async (job) => {
      try {
        return await processor.process(job as never);
      } catch (e) {
        // The failure reason the test reads: the error code only.
        throw new Error(isTenantryError(e) ? e.code : 'UNTYPED');
      }
    },
    { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), concurrency: 8 },
  );
  await worker.waitUntilReady();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  process.once('SIGTERM', () => {
    void worker.close().then(async () => {
      await ctx.close();
      await log.quit();
      process.exit(0);
    });
  });
}
void main();
