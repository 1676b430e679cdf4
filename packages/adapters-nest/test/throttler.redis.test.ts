// Per-IP and per-tenant rate limits of TenancyThrottlerModule (@nestjs/throttler, counters in Redis):
// two app instances, each with its own Redis connection, share the limits. Nest on Express and Fastify.
import { hasBackend, skipLabel, useRedisPrefix } from '@tenantry/testkit';
import { isTenantryError } from '@tenantry/core';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenancyThrottlerModule } from '../src/throttler.js';
import { type NestTestApp, type Platform, bearer, buildNestApp, mint } from './helpers.js';

describe.skipIf(!hasBackend('redis'))(`TenancyThrottlerModule sharing Redis${skipLabel('redis')}`, () => {
  const redis = useRedisPrefix();
  describe.each(['express', 'fastify'] as Platform[])('on %s', (platform) => {
    const apps: NestTestApp[] = [];
    const clients: Redis[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 2; i++) {
        const client = new Redis(redis.url(), { maxRetriesPerRequest: 1 });
        clients.push(client);
        apps.push(
          await buildNestApp(
            platform,
            {},
            {
              imports: [
                TenancyThrottlerModule.forRoot({
                  redis: client,
                  perIp: { limit: 12, ttlMs: 60_000 },
                  perTenant: { limit: 5, ttlMs: 60_000 },
                  prefix: `${redis.prefix()}${platform}:`,
                }),
              ],
            },
          ),
        );
      }
    });
    afterAll(async () => {
      for (const a of apps) await a.close();
      for (const c of clients) c.disconnect();
    });

    it('holds the per-tenant and the per-IP limit across both instances', async () => {
      const statusOf = async (i: number, tenantId: string) => {
        const res = await request((apps[i % 2] as NestTestApp).app.getHttpServer())
          .get('/ops/whoami')
          .set(bearer(await mint({ tenantId })));
        if (res.status !== 200) {
          expect(res.body.code).toBe('HTTP_RATE_LIMITED');
          expect(res.headers['content-type']).toMatch(/problem\+json/);
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        }
        return res.status;
      };
      const acme: number[] = [];
      for (let i = 0; i < 6; i++) acme.push(await statusOf(i, 'acme'));
      expect(acme).toEqual([200, 200, 200, 200, 200, 429]);
      const globex: number[] = [];
      for (let i = 0; i < 6; i++) globex.push(await statusOf(i, 'globex'));
      // globex has its own tenant window (5), while the IP window (12) fills: 6 + 6 = 12 requests.
      expect(globex).toEqual([200, 200, 200, 200, 200, 429]);
      // A third tenant is refused by the IP limit (13th request of this address).
      expect(await statusOf(0, 'initech')).toBe(429);
    });
  });
});

describe.skipIf(!hasBackend('redis'))(
  `TenancyThrottlerModule keys IPv6 clients by their /56${skipLabel('redis')}`,
  () => {
    const redis = useRedisPrefix();
    it('counts addresses of one /56 against one per-IP limit, as the Express adapter does', async () => {
      const client = new Redis(redis.url(), { maxRetriesPerRequest: 1 });
      const nest = await buildNestApp(
        'express',
        {},
        {
          imports: [
            TenancyThrottlerModule.forRoot({
              redis: client,
              perIp: { limit: 3, ttlMs: 60_000 },
              perTenant: { limit: 100, ttlMs: 60_000 },
              prefix: `${redis.prefix()}v6:`,
            }),
          ],
        },
      );
      try {
        // The client's address comes from X-Forwarded-For behind a trusted proxy.
        (nest.app.getHttpAdapter().getInstance() as { set(k: string, v: unknown): void }).set(
          'trust proxy',
          true,
        );
        const token = bearer(await mint());
        const from = async (ip: string) =>
          (await request(nest.app.getHttpServer()).get('/ops/whoami').set(token).set('x-forwarded-for', ip))
            .status;
        // Four addresses a client can rotate through within its /56: the fourth is over the limit of 3.
        const rotating = ['2001:db8:1:1::1', '2001:db8:1:2::2', '2001:db8:1:ff::3', '2001:db8:1:10::4'];
        const statuses: number[] = [];
        for (const ip of rotating) statuses.push(await from(ip));
        expect(statuses).toEqual([200, 200, 200, 429]);
        // Another /56 has its own window.
        expect(await from('2001:db8:2::1')).toBe(200);
      } finally {
        await nest.close();
        client.disconnect();
      }
    });
  },
);

describe('TenancyThrottlerModule options', () => {
  it('refuses malformed limits and clients with VALIDATION_FAILED', () => {
    for (const bad of [
      { perIp: { limit: 0, ttlMs: 1 } },
      { perTenant: { limit: 1 } },
      { prefix: '' },
      { redis: {} },
    ]) {
      let code: string | undefined;
      try {
        TenancyThrottlerModule.forRoot(bad as never);
      } catch (e) {
        code = isTenantryError(e) ? e.code : 'untyped';
      }
      expect(code).toBe('VALIDATION_FAILED');
    }
  });
});
