// A BullMQ worker process: runs each job of the queue in the tenant context carried in its data
// (tenantProcessor), and records what ran, as whom, in a Redis list. argv: <redisUrl> <queue> <keyHex>.
// Prints {"ready":true} once the worker listens; closes on SIGTERM.
import { createJobContextCodec, isTenantryError, requireTenant } from '@tenantry/core';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { tenantProcessor } from '../../src/index.js';

const [redisUrl = 'redis://127.0.0.1:6379', queueName = 'q', keyHex = ''] = process.argv.slice(2);
const codec = createJobContextCodec({ signingKey: Buffer.from(keyHex, 'hex') });
const log = new Redis(redisUrl);
const process_ = tenantProcessor(codec, async (job: { data: { month: string } }) => {
  await new Promise((r) => setTimeout(r, Math.random() * 5));
  const ctx = requireTenant();
  const ran = { tenantId: ctx.tenantId, actor: ctx.actor.id, month: job.data.month, pid: process.pid };
  await log.rpush(`${queueName}:runs`, JSON.stringify(ran));
  return ran;
});
const worker = new Worker(
  queueName,
  async (job) => {
    try {
      return await process_(job as never);
    } catch (e) {
      // The failure reason the test reads: the error code only.
      throw new Error(isTenantryError(e) ? e.code : 'UNTYPED');
    }
  },
  { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), concurrency: 8 },
);
void worker.waitUntilReady().then(() => process.stdout.write(`${JSON.stringify({ ready: true })}\n`));
process.once('SIGTERM', () => {
  void worker.close().then(async () => {
    await log.quit();
    process.exit(0);
  });
});
