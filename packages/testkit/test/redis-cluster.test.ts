import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedisCluster } from '../src/index.js';

describe('startRedisCluster', () => {
  it('starts a working three-master cluster on loopback and stops it', async () => {
    const cluster = await startRedisCluster(3);
    const client = new Cluster(cluster.nodes);
    try {
      // Keys in different slots land on different masters; all are reachable.
      for (let i = 0; i < 30; i++) await client.set(`k${i}`, String(i));
      expect(await client.get('k17')).toBe('17');
      const masters = client.nodes('master');
      expect(masters).toHaveLength(3);
      const counts = await Promise.all(masters.map((m) => m.dbsize()));
      expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  }, 30_000);
});
