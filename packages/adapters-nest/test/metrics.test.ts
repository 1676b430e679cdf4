// TenancyMetricsModule: the Prometheus scrape, protected by a token or the platform-staff role, on Nest
// with Express and with Fastify; refusals are problem+json.
import { createTokenVerifier } from '@tenantry/http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenancyMetricsModule } from '../src/index.js';
import { AUTH, type NestTestApp, type Platform, bearer, buildNestApp, mint } from './helpers.js';

const TOKEN = 'scrape-token-of-at-least-32-characters!!';

describe.each(['express', 'fastify'] as Platform[])('TenancyMetricsModule on %s', (platform) => {
  let t: NestTestApp;
  const server = () => t.app.getHttpServer();
  beforeAll(async () => {
    t = await buildNestApp(
      platform,
      {},
      {
        imports: [
          TenancyMetricsModule.forRoot({
            source: { collect: async () => 'tenantry_http_refusals_total 3\n' },
            token: TOKEN,
            staff: { verifier: createTokenVerifier(AUTH), roles: ['PLATFORM_ADMIN'] },
          }),
        ],
      },
    );
  });
  afterAll(() => t.close());

  it('answers the scrape with the token or a staff JWT only', async () => {
    const none = await request(server()).get('/metrics');
    expect([none.status, none.body.code]).toEqual([401, 'HTTP_TOKEN_MISSING']);
    expect(none.headers['content-type']).toMatch(/problem\+json/);
    const wrong = await request(server()).get('/metrics').set('authorization', 'Bearer nope');
    expect([wrong.status, wrong.body.code]).toEqual([401, 'HTTP_TOKEN_INVALID']);
    const tenantUser = await request(server())
      .get('/metrics')
      .set(bearer(await mint({ roles: ['PLATFORM_ADMIN'] })));
    expect([tenantUser.status, tenantUser.body.code]).toEqual([403, 'PERMISSION_DENIED']);
    for (const auth of [
      `Bearer ${TOKEN}`,
      `Bearer ${await mint({ tenantId: null, roles: ['PLATFORM_ADMIN'] })}`,
    ]) {
      const ok = await request(server()).get('/metrics').set('authorization', auth);
      expect(ok.status).toBe(200);
      expect(ok.headers['content-type']).toMatch(/^text\/plain/);
      expect(ok.text).toBe('tenantry_http_refusals_total 3\n');
    }
  });
});
