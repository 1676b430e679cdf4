// Quota consumes per second on Redis (createQuotas + RedisQuotaStore: one EVALSHA running
// GET + INCRBY (+ PEXPIRE on a window's first use), plus validation and window maths in Node)
// against a raw INCR on the same server (the cheapest way to count by hand, which does not enforce a
// limit), and against a hand-written Lua limit check (the plain way to do the same job).
import { compare, printBench, type BenchRow } from '@tenantry/testkit/bench';
import { Redis } from 'ioredis';
import { createQuotas, noopAuditPort, runAsSystem } from '@tenantry/core';
import { RedisQuotaStore } from '@tenantry/core/redis';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `tenantry-bench-${process.pid}-${Date.now().toString(36)}:`;
const redis = new Redis(url);
const quotas = createQuotas({
  store: new RedisQuotaStore({ redis, keyPrefix: prefix }),
  quotas: { emails: { window: 'day', defaultLimit: Number.MAX_SAFE_INTEGER } },
});
const TENANTS = Array.from({ length: 100 }, (_, i) => `tenant-${i}`);
let n = 0;
const tenant = () => TENANTS[n++ % TENANTS.length]!;

const rows: BenchRow[] = [];
try {
  // Back-office measurement across many tenants: the audited system scope (T1) lets it name each one.
  await runAsSystem(
    { actor: { id: 'bench', kind: 'service' }, reason: 'benchmark' },
    noopAuditPort,
    async () => {
      for (const concurrency of [1, 16]) {
        rows.push(
          await compare({
            workload: `redis quota tryConsume vs raw INCR (1 connection, ${concurrency} in flight)`,
            unit: 'ops/s',
            concurrency,
            durationMs: 700,
            rounds: 7,
            ours: async () => {
              const r = await quotas.tryConsume('emails', { tenantId: tenant() });
              if (!r.ok) throw new Error('unexpected refusal');
            },
            baseline: () => redis.incr(`${prefix}raw:${tenant()}`),
          }),
        );
      }
      // The same limit check written by hand: a one-line Lua script called with EVALSHA and a fixed key
      // layout, no validation or window maths. Shows what the library itself adds in Node.
      const script = `local u = tonumber(redis.call('GET', KEYS[1]) or '0')
if u + 1 > tonumber(ARGV[1]) then return 0 end
local v = redis.call('INCR', KEYS[1]) if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return v`;
      const sha = String(await redis.script('LOAD', script));
      rows.push(
        await compare({
          workload: 'redis quota tryConsume vs hand-written Lua limit check (1 connection, 16 in flight)',
          unit: 'ops/s',
          concurrency: 16,
          durationMs: 700,
          rounds: 7,
          ours: async () => {
            const r = await quotas.tryConsume('emails', { tenantId: tenant() });
            if (!r.ok) throw new Error('unexpected refusal');
          },
          baseline: () =>
            redis.evalsha(sha, 1, `${prefix}lua:${tenant()}`, Number.MAX_SAFE_INTEGER, 86_400_000),
        }),
      );
    },
  );
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
printBench('@tenantry/core quotas on Redis', rows);
