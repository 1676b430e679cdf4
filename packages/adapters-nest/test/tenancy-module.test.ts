import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, ISSUER, type NestTestApp, type Platform, bearer, buildNestApp, mint } from './helpers.js';

const PROBLEM = /^application\/problem\+json/;

describe.each(['express', 'fastify'] as Platform[])('TenancyModule on Nest with %s', (platform) => {
  let t: NestTestApp;
  const server = () => t.app.getHttpServer();
  beforeAll(async () => {
    t = await buildNestApp(platform);
  });
  afterAll(() => t.close());

  it('runs the handler in the verified tenant context; @CurrentTenant and @CurrentActor agree', async () => {
    const res = await request(server())
      .get('/ops/whoami')
      .set(bearer(await mint({ sub: 'u-9' })))
      .set('x-request-id', 'req-1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tenantId: 'acme', param: 'acme', actor: 'u-9', requestId: 'req-1' });
    expect(res.headers['x-request-id']).toBe('req-1');
  });

  it('refuses missing, forged, expired, wrong-issuer, wrong-audience and alg:none tokens', async () => {
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({
        sub: 'u',
        tenant_id: 'acme',
        iss: ISSUER,
        aud: AUDIENCE,
        exp: Math.floor(Date.now() / 1000) + 60,
      }),
    ).toString('base64url')}.`;
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'HTTP_TOKEN_MISSING'],
      [bearer(await mint({ secret: 'another-secret-of-at-least-32-bytes!!' })), 'HTTP_TOKEN_INVALID'],
      [bearer(await mint({ expiresIn: '-5m' })), 'HTTP_TOKEN_EXPIRED'],
      [bearer(await mint({ iss: 'https://evil.test/' })), 'HTTP_TOKEN_INVALID'],
      [bearer(await mint({ aud: 'other' })), 'HTTP_TOKEN_INVALID'],
      [bearer(none), 'HTTP_TOKEN_INVALID'],
    ];
    for (const [headers, code] of cases) {
      const res = await request(server()).get('/ops/whoami').set(headers);
      expect([res.status, res.body.code]).toEqual([401, code]);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    }
  });

  it('refuses a header naming another tenant; serves @Public routes without a token', async () => {
    const res = await request(server())
      .get('/ops/whoami')
      .set(bearer(await mint()))
      .set('x-tenant-id', 'globex');
    expect([res.status, res.body.code]).toEqual([403, 'TENANT_CONTEXT_CONFLICT']);
    expect((await request(server()).get('/public/ping')).body).toEqual({ pong: true });
  });

  it('keeps 200 interleaved concurrent requests of 3 tenants apart', async () => {
    const tenants = ['acme', 'globex', 'initech'];
    const tokens = await Promise.all(tenants.map((tenantId) => mint({ tenantId, sub: `u-${tenantId}` })));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        request(server())
          .get('/ops/whoami')
          .set(bearer(tokens[i % 3] as string))
          .then((r) => ({
            want: tenants[i % 3],
            got: r.body.tenantId,
            param: r.body.param,
            actor: r.body.actor,
          })),
      ),
    );
    expect(
      results.filter((r) => r.got !== r.want || r.param !== r.want || r.actor !== `u-${r.want}`),
    ).toEqual([]);
  });

  it('refuses suspended and unpaid tenants with their codes; a tenant admin passes to pay; roles and segments hold', async () => {
    const suspended = await request(server())
      .get('/ops/whoami')
      .set(bearer(await mint({ tenantId: 'umbrella' })));
    expect([suspended.status, suspended.body.code]).toEqual([403, 'TENANT_SUSPENDED']);
    const unpaid = await request(server())
      .get('/ops/whoami')
      .set(bearer(await mint({ tenantId: 'hooli' })));
    expect([unpaid.status, unpaid.body.code]).toEqual([402, 'SUBSCRIPTION_PAST_DUE']);
    const admin = await request(server())
      .get('/back-office/settings')
      .set(bearer(await mint({ tenantId: 'hooli', roles: ['TENANT_ADMIN'] })));
    expect(admin.status).toBe(200);
    const manager = await request(server())
      .delete('/back-office/users/1')
      .set(bearer(await mint({ roles: ['MANAGER'] })));
    expect([manager.status, manager.body.code]).toEqual([403, 'PERMISSION_DENIED']);
    const tenantAdmin = await request(server())
      .delete('/back-office/users/1')
      .set(bearer(await mint({ roles: ['TENANT_ADMIN'] })));
    expect(tenantAdmin.status).toBe(204);
    const user = await request(server())
      .get('/sys-mgt/tenants')
      .set(bearer(await mint({ roles: ['USER'] })));
    expect(user.body.code).toBe('PERMISSION_DENIED');
    // No spelling reaches the handler past the segment's guard. Nest on Express routes ignore case
    // (403 from the guard), Fastify finds no route for them (404); Fastify decodes percent-escapes
    // before it picks a route (403 from the guard), Express routes the raw path and finds none (404).
    const spellings: Array<[string, number, number]> = [
      ['/SYS-MGT/tenants', 403, 404],
      ['/Sys-Mgt/tenants', 403, 404],
      ['/%73ys-mgt/tenants', 404, 403],
      ['/sys%2Dmgt/tenants', 404, 403],
    ];
    for (const [path, onExpress, onFastify] of spellings) {
      const res = await request(server())
        .get(path)
        .set(bearer(await mint({ roles: ['USER'] })));
      expect([path, res.status]).toEqual([path, platform === 'express' ? onExpress : onFastify]);
      expect(res.body.ok).toBeUndefined();
    }
    const platformStaff = await request(server())
      .get('/sys-mgt/tenants')
      .set(bearer(await mint({ tenantId: null, roles: ['SUPER_ADMIN'] })));
    expect(platformStaff.status).toBe(200);
  });

  it('audits a mutating request with actor, impersonator, route, resource and masked body', async () => {
    const before = t.audit.events.length;
    const res = await request(server())
      .put('/ops/items/42')
      .set(bearer(await mint({ sub: 'u-1', act: { sub: 'support-7', roles: ['SUPER_ADMIN'] } })))
      .set('x-request-id', 'req-audit')
      .send({ name: 'n', password: 'hunter2' });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 30));
    const events = t.audit.events.slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      tenantId: 'acme',
      actor: { id: 'u-1' },
      impersonator: { id: 'support-7' },
      action: 'http.put',
      outcome: 'success',
      targets: [
        { type: 'route', id: 'PUT /ops/items/:id' },
        { type: 'item', id: '42' },
      ],
      request: { requestId: 'req-audit' },
      metadata: { status: 200, body: { name: 'n', password: '[MASKED]' } },
    });
  });

  it('fail-closed handlers answer 503 without their body when the audit write fails', async () => {
    const failing = await buildNestApp(platform, {
      auditPort: {
        record: async () => {
          throw new Error('audit store down');
        },
      },
    });
    try {
      const res = await request(failing.app.getHttpServer())
        .post('/ops/payouts/7')
        .set(bearer(await mint()));
      expect([res.status, res.body.code]).toEqual([503, 'HTTP_AUDIT_UNAVAILABLE']);
      expect(res.text).not.toContain('payout-body');
      const open = await request(failing.app.getHttpServer())
        .post('/ops/items')
        .set(bearer(await mint()))
        .send({ name: 'x', qty: 1 });
      expect(open.status).toBe(201);
    } finally {
      await failing.close();
    }
    const ok = await request(server())
      .post('/ops/payouts/8')
      .set(bearer(await mint()));
    expect(ok.status).toBe(201);
    expect(t.audit.events.at(-1)).toMatchObject({
      targets: [{}, { type: 'payout', id: '8' }],
      outcome: 'success',
    });
  });

  it('answers errors as problem+json: bare 500 without internals, 400 with field paths, 404', async () => {
    const crash = await request(server())
      .get('/ops/crash')
      .set(bearer(await mint()));
    expect(crash.status).toBe(500);
    expect(crash.headers['content-type']).toMatch(PROBLEM);
    expect(crash.body.code).toBe('INTERNAL');
    expect(crash.text).not.toMatch(/SELECT|duplicate|users_email|stack/);
    const invalid = await request(server())
      .post('/ops/items')
      .set(bearer(await mint()))
      .send({ name: '', qty: 'x' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['name', 'qty']);
    const missing = await request(server())
      .get('/ops/none')
      .set(bearer(await mint()));
    expect([missing.status, missing.body.code]).toEqual([404, 'HTTP_NOT_FOUND']);
    expect(missing.headers['content-type']).toMatch(PROBLEM);
  });
});
