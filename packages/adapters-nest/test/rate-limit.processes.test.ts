// Rate limits (TenancyThrottlerModule) and sign-in lockout (@SignInLockout) hold across two OS processes
// of a Nest app sharing one Redis, on the Express and the Fastify platform.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasBackend, skipLabel, startChild, stopChildren, useRedisPrefix } from '@tenantry/testkit';
import { describe, expect, it } from 'vitest';
import { type Platform, bearer, mint } from './helpers.js';

const script = fileURLToPath(new URL('./workers/server.ts', import.meta.url));

interface Server {
  child: ChildProcess;
  base: string;
  pid: number;
}
async function startPair(platform: Platform, redisUrl: string, prefix: string): Promise<Server[]> {
  const started = await Promise.all(
    [0, 1].map(() => startChild<{ port: number; pid: number }>(script, [platform, redisUrl, prefix], 60_000)),
  );
  return started.map(({ child, first }) => ({
    child,
    base: `http://127.0.0.1:${first.port}`,
    pid: first.pid,
  }));
}

describe.skipIf(!hasBackend('redis'))(`Nest: two processes sharing Redis${skipLabel('redis')}`, () => {
  const redis = useRedisPrefix();
  describe.each(['express', 'fastify'] as Platform[])('on %s', (platform) => {
    it('hold the per-tenant and per-IP limits together', async () => {
      const servers = await startPair(platform, redis.url(), `${redis.prefix()}${platform}:a:`);
      try {
        expect(new Set(servers.map((s) => s.pid)).size).toBe(2);
        const get = async (i: number, tenantId: string) => {
          const res = await fetch(`${servers[i % 2]?.base}/ops/whoami`, {
            headers: bearer(await mint({ tenantId })),
          });
          if (res.status !== 200) {
            expect(res.headers.get('content-type')).toMatch(/problem\+json/);
            expect(((await res.json()) as { code: string }).code).toBe('HTTP_RATE_LIMITED');
            expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
          } else await res.arrayBuffer();
          return res.status;
        };
        const statuses: number[] = [];
        for (let i = 0; i < 8; i++) statuses.push(await get(i, 'acme'));
        // perTenant limit 6, counted across both processes (one process alone would allow 8).
        expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
        // Another tenant has its own budget; the per-IP limit (10) has room for two more in all.
        expect(await get(0, 'globex')).toBe(200);
        expect(await get(1, 'initech')).toBe(200);
        expect(await get(0, 'initech')).toBe(429);
      } finally {
        await stopChildren(servers.map((s) => s.child));
      }
    }, 90_000);

    it('lock an account after repeated failed sign-ins on either process, even for the right password', async () => {
      const servers = await startPair(platform, redis.url(), `${redis.prefix()}${platform}:b:`);
      try {
        const attempt = async (i: number, email: string, password: string) => {
          const res = await fetch(`${servers[i % 2]?.base}/auth/sign-in`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, password }),
          });
          if (res.status !== 423) {
            await res.arrayBuffer();
            return res.status;
          }
          expect(res.headers.get('content-type')).toMatch(/problem\+json/);
          expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
          return ((await res.json()) as { code: string }).code;
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
        await stopChildren(servers.map((s) => s.child));
      }
    }, 90_000);
  });
});
