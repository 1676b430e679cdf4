// Redis: one allocation = lock + read mark (one Lua call) and advance + release (one Lua call), with an
// empty document write, against a raw INCR on the same server (which gives no gapless guarantee at all).
// With `keepLeaseMs`, a back-to-back allocation of the same series reuses the lease: one Lua call
// (advance, lease kept) per allocation; the mark is still advanced in Redis before each call returns.
import { type BenchRow, compare, printBench } from '@tenantry/testkit/bench';
import { runAsTenant } from '@tenantry/core';
import { resolveBackend, uniqueId } from '@tenantry/testkit';
import { Redis } from 'ioredis';
import { createLockedSequencer, defineSeries, type Series } from '@tenantry/sequencer';
import { RedisSequencerBackend } from '@tenantry/sequencer/redis';

const status = await resolveBackend('redis');
if (!status.available) throw new Error(`redis unavailable: ${status.reason}`);
const prefix = uniqueId('bench');
const redis = new Redis(status.url);
const DURATION = Number(process.env.BENCH_MS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

try {
  const backend = new RedisSequencerBackend({ redis, prefix });
  const seq = createLockedSequencer({ lock: backend, store: backend, highestCommitted: async () => null });
  const kept = createLockedSequencer({
    lock: backend,
    store: backend,
    highestCommitted: async () => null,
    options: { keepLeaseMs: 5 },
  });
  const write = async () => undefined;
  const tenant = uniqueId('t').replace(/_/g, '-');
  const one = defineSeries({ key: 'invoice' });
  const many = Array.from({ length: 32 }, (_, i) => defineSeries({ key: `pos-${i}` }));
  // The work runs in the tenant's context, entered once (as a host's middleware does per request).
  const asTenant = <R>(fn: () => R): R => runAsTenant({ tenantId: tenant, actor: { id: 'bench' } }, fn);
  let next = 0;
  const rows: BenchRow[] = [];
  rows.push(
    await asTenant(() =>
      compare({
        workload: 'redis vs raw INCR, 1 client',
        unit: 'allocations/s',
        durationMs: DURATION,
        rounds: ROUNDS,
        ours: () => seq.withNumber(one, {}, write),
        baseline: () => redis.incr(`${prefix}:raw-incr`),
      }),
    ),
  );
  rows.push(
    await asTenant(() =>
      compare({
        workload: 'redis keeping the lease (keepLeaseMs 5) vs raw INCR, 1 client',
        unit: 'allocations/s',
        durationMs: DURATION,
        rounds: ROUNDS,
        ours: () => kept.withNumber(one, {}, write),
        baseline: () => redis.incr(`${prefix}:raw-incr`),
      }),
    ),
  );
  await kept.close();
  rows.push(
    await asTenant(() =>
      compare({
        workload: 'redis, 32 series in parallel vs one hot series, 8 clients',
        unit: 'allocations/s',
        concurrency: 8,
        durationMs: DURATION,
        rounds: ROUNDS,
        ours: () => seq.withNumber(many[next++ % many.length] as Series, {}, write),
        baseline: () => seq.withNumber(one, {}, write),
      }),
    ),
  );
  printBench('@tenantry/sequencer: Redis callback form (lock + mark on Redis, empty document write)', rows);
} finally {
  let cursor = '0';
  do {
    const [c, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = c;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
