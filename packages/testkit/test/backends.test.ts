import { describe, expect, it } from 'vitest';
import { backendStatus, requiredBackends, resolveBackend } from '../src/index.js';
import setup from '../src/global-setup.js';

describe('backend resolution', () => {
  it('prefers the environment URL', async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = 'redis://example.invalid:1';
    try {
      expect(await resolveBackend('redis')).toMatchObject({
        available: true,
        url: 'redis://example.invalid:1',
        source: 'env',
      });
    } finally {
      process.env.REDIS_URL = saved;
    }
  });

  it('parses REQUIRE_BACKENDS and ignores unknown names', () => {
    const saved = process.env.REQUIRE_BACKENDS;
    process.env.REQUIRE_BACKENDS = 'postgres, redis,nonsense';
    try {
      expect([...requiredBackends()].sort()).toEqual(['postgres', 'redis']);
    } finally {
      process.env.REQUIRE_BACKENDS = saved;
    }
  });

  it('the global setup fails when a required backend is unavailable', async () => {
    const saved = { ...process.env };
    // Point Mongo at a port where nothing listens, and require it.
    process.env.MONGO_URL = '';
    process.env.REQUIRE_BACKENDS = 'mongo';
    try {
      const status = await resolveBackend('mongo');
      if (status.available) return; // a real Mongo is around: nothing to prove here
      await expect(setup()).rejects.toThrow(/REQUIRE_BACKENDS names unavailable backends/);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it('workers see what the global setup published', () => {
    for (const kind of ['postgres', 'redis', 'mongo'] as const) {
      const s = backendStatus(kind);
      expect(s.available ? s.url.length > 0 : s.reason.length > 0).toBe(true);
    }
  });
});
