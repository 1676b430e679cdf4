import { Redis } from 'ioredis';
import { createLockedSequencer, defineSeries } from '../src/index.js';
import { RedisSequencerBackend } from '../src/redis.js';
const redis = new Redis('redis://127.0.0.1:6379');
const b = new RedisSequencerBackend(redis, { prefix: 'probe' });
const seq = createLockedSequencer({ lock: b, store: b, highestCommitted: async () => null });
const s = defineSeries({ tenant: 'acme', key: 'inv' });
const key = { tenant: 'acme', series: 'inv2', period: '', start: 1 };
const N = 5000;
for (const [name, fn] of [
  ['incr', () => redis.incr('probe:x')],
  ['get', () => redis.get('probe:x')],
  ['fused raw', async () => { const { lease, state } = await b.acquireAndRead(key, { ttlMs: 5000, waitMs: 1000 }); await b.advanceAndRelease(lease, key, { from: state.mark, to: (state.mark ?? 0) + 1 }); }],
  ['withNumber', () => seq.withNumber(s, {}, async () => undefined)],
  ['incr', () => redis.incr('probe:x')],

  ['incr', () => redis.incr('probe:x')],
  ['get', () => redis.get('probe:x')],
  ['fused raw', async () => { const { lease, state } = await b.acquireAndRead(key, { ttlMs: 5000, waitMs: 1000 }); await b.advanceAndRelease(lease, key, { from: state.mark, to: (state.mark ?? 0) + 1 }); }],
  ['withNumber', () => seq.withNumber(s, {}, async () => undefined)],
  ['incr', () => redis.incr('probe:x')],

  ['incr', () => redis.incr('probe:x')],
  ['get', () => redis.get('probe:x')],
  ['fused raw', async () => { const { lease, state } = await b.acquireAndRead(key, { ttlMs: 5000, waitMs: 1000 }); await b.advanceAndRelease(lease, key, { from: state.mark, to: (state.mark ?? 0) + 1 }); }],
  ['withNumber', () => seq.withNumber(s, {}, async () => undefined)],
  ['incr', () => redis.incr('probe:x')],
] as const) {
  for (let i = 0; i < 500; i++) await fn();
  const t = performance.now();
  for (let i = 0; i < N; i++) await fn();
  console.log(name, (((performance.now() - t) / N) * 1000).toFixed(1), 'µs');
}
redis.disconnect();
