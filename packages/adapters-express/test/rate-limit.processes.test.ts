import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasBackend, skipLabel, startChild, stopChildren, useRedisPrefix } from '@tenantry/testkit';
import { describe, expect, it } from 'vitest';
import { bearer, mint } from './helpers.js';

const script = fileURLToPath(new URL('./workers/server.ts', import.meta.url));

async function start(redisUrl: string, prefix: string): Promise<{ child: ChildProcess; base: string }> {
  const { child, first } = await startChild<{ port: number }>(script, [redisUrl, prefix]);
  return { child, base: `http://127.0.0.1:${first.port}` };
}

const stop = (servers: Array<{ child: ChildProcess }>) => stopChildren(servers.map((s) => s.child));

describe.skipIf(!hasBackend('redis'))(`two processes sharing Redis${skipLabel('redis')}`, () => {
  const redis = useRedisPrefix();

  it('hold the per-tenant and per-IP limits together', async () => {
    const servers = await Promise.all([
      start(redis.url(), `${redis.prefix()}a:`),
      start(redis.url(), `${redis.prefix()}a:`),
    ]);
    try {
      const token = await mint({ tenantId: 'acme' });
      const statuses: number[] = [];
      const pids = new Set<number>();
      for (let i = 0; i < 8; i++) {
        const s = servers[i % 2] as { base: string };
        const res = await fetch(`${s.base}/ops/ping`, { headers: bearer(token) });
        statuses.push(res.status);
        if (res.status === 200) pids.add(((await res.json()) as { pid: number }).pid);
        else {
          expect(((await res.json()) as { code: string }).code).toBe('HTTP_RATE_LIMITED');
          expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        }
      }
      expect(pids.size).toBe(2);
      // perTenant limit 6, counted across both processes.
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
      // Another tenant has its own budget; the per-IP limit (10) has room for two more requests in all.
      const other = await fetch(`${servers[0]?.base}/ops/ping`, {
        headers: bearer(await mint({ tenantId: 'globex' })),
      });
      expect(other.status).toBe(200);
      const last = await fetch(`${servers[1]?.base}/ops/ping`, {
        headers: bearer(await mint({ tenantId: 'initech' })),
      });
      expect(last.status).toBe(200);
      const spent = await fetch(`${servers[0]?.base}/ops/ping`, {
        headers: bearer(await mint({ tenantId: 'initech' })),
      });
      expect([spent.status, ((await spent.json()) as { code: string }).code]).toEqual([
        429,
        'HTTP_RATE_LIMITED',
      ]);
    } finally {
      await stop(servers);
    }
  }, 60_000);

  it('lock an account after repeated failed sign-ins on either process, even for the right password', async () => {
    const servers = await Promise.all([
      start(redis.url(), `${redis.prefix()}b:`),
      start(redis.url(), `${redis.prefix()}b:`),
    ]);
    try {
      const attempt = async (i: number, email: string, password: string) => {
        const res = await fetch(`${servers[i % 2]?.base}/auth/sign-in`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password }),
        });
        return res.status === 423 ? ((await res.json()) as { code: string }).code : res.status;
      };
      // A success does not count against the account.
      expect(await attempt(0, 'ann@example.com', 'right')).toBe(200);
      expect([
        await attempt(0, 'ann@example.com', 'wrong'),
        await attempt(1, 'ANN@example.com', 'wrong'),
        await attempt(0, 'ann@example.com ', 'wrong'),
      ]).toEqual([401, 401, 401]);
      expect(await attempt(1, 'ann@example.com', 'right')).toBe('HTTP_ACCOUNT_LOCKED');
      expect(await attempt(0, 'ann@example.com', 'right')).toBe('HTTP_ACCOUNT_LOCKED');
      // Another account is not locked.
      expect(await attempt(1, 'bob@example.com', 'right')).toBe(200);
    } finally {
      await stop(servers);
    }
  }, 60_000);
});
