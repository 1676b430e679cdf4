import { request as httpRequest, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  MemoryAuditPort,
  createGatekeeper,
  createTenantConfigCache,
  createTenantDirectory,
  currentTenantContext,
  isTenantryError,
  noopAuditPort,
  runAsSystem,
} from '@tenantry/core';
import { MemoryInvalidationBus } from '@tenantry/core/memory';
import express from 'express';
import helmet from 'helmet';
import { countingConfigSource } from '@tenantry/testkit';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { tenancy } from '../src/index.js';
import {
  AUTH,
  AUDIENCE,
  ISSUER,
  SEEDER,
  type TestApp,
  bearer,
  buildApp,
  mint,
  seedTenants,
} from './helpers.js';

const PROBLEM = /^application\/problem\+json/;

let t: TestApp;
beforeAll(async () => {
  t = await buildApp();
});

/** The test app with an audit port whose every write fails. */
const appWithFailingAudit = () =>
  buildApp({
    auditPort: {
      record: async () => {
        throw new Error('audit store down');
      },
    },
  });

describe('tenant from verified credentials only (T2)', () => {
  it('puts tenant, actor and request id into core context for the whole request', async () => {
    const res = await request(t.app)
      .get('/ops/whoami')
      .set(bearer(await mint({ sub: 'u-9' })))
      .set('x-request-id', 'req-123');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tenantId: 'acme', actor: 'u-9', requestId: 'req-123' });
    expect(res.headers['x-request-id']).toBe('req-123');
  });

  it('refuses missing, forged, expired, wrong-issuer, wrong-audience and alg:none tokens with 401 problems', async () => {
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({
        sub: 'u',
        tenant_id: 'acme',
        iss: ISSUER,
        aud: AUDIENCE,
        exp: Math.floor(Date.now() / 1000) + 60,
      }),
    ).toString('base64url')}.`;
    const cases: Array<[string, Record<string, string>, string]> = [
      ['missing', {}, 'HTTP_TOKEN_MISSING'],
      [
        'forged',
        bearer(await mint({ secret: 'another-secret-of-at-least-32-bytes!!' })),
        'HTTP_TOKEN_INVALID',
      ],
      ['expired', bearer(await mint({ expiresIn: '-5m' })), 'HTTP_TOKEN_EXPIRED'],
      ['wrong issuer', bearer(await mint({ iss: 'https://evil.test/' })), 'HTTP_TOKEN_INVALID'],
      ['wrong audience', bearer(await mint({ aud: 'other' })), 'HTTP_TOKEN_INVALID'],
      ['alg none', bearer(none), 'HTTP_TOKEN_INVALID'],
      ['basic scheme', { authorization: 'Basic dTpw' }, 'HTTP_TOKEN_INVALID'],
    ];
    for (const [name, headers, code] of cases) {
      const res = await request(t.app).get('/ops/whoami').set(headers);
      expect([name, res.status, res.body.code]).toEqual([name, 401, code]);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    }
  });

  it('refuses a header or query naming another tenant than the token', async () => {
    const token = await mint({ tenantId: 'acme' });
    const other = await request(t.app).get('/ops/whoami').set(bearer(token)).set('x-tenant-id', 'globex');
    expect([other.status, other.body.code]).toEqual([403, 'TENANT_CONTEXT_CONFLICT']);
    const same = await request(t.app).get('/ops/whoami').set(bearer(token)).set('x-tenant-id', 'acme');
    expect(same.body.tenantId).toBe('acme');
  });

  it('serves public paths and health probes without credentials', async () => {
    expect((await request(t.app).get('/public/ping')).body).toEqual({ pong: true });
    expect((await request(t.app).get('/health/live')).status).toBe(200);
    expect((await request(t.app).get('/health/ready')).body).toEqual({ status: 'ready', checks: {} });
  });

  it('keeps hundreds of interleaved concurrent requests from several tenants apart', async () => {
    const tenants = ['acme', 'globex', 'initech'];
    const tokens = await Promise.all(tenants.map((tenantId) => mint({ tenantId, sub: `u-${tenantId}` })));
    const server = t.app.listen(0, '127.0.0.1');
    try {
      const agent = request(server);
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => {
          const k = i % tenants.length;
          return agent
            .get('/ops/whoami')
            .set(bearer(tokens[k] as string))
            .then((res) => ({ expected: tenants[k], got: res.body.tenantId, actor: res.body.actor }));
        }),
      );
      expect(results.filter((r) => r.got !== r.expected || r.actor !== `u-${r.expected}`)).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe('cached tokens without a gatekeeper (answered synchronously)', () => {
  it('a cached token acts for its tenant, and a header naming another tenant is still refused', async () => {
    const { app } = await buildApp({ gatekeeper: undefined });
    const tenants = ['acme', 'globex', 'initech'];
    const tokens = await Promise.all(tenants.map((tenantId) => mint({ tenantId, sub: `u-${tenantId}` })));
    for (const token of tokens)
      expect((await request(app).get('/ops/whoami').set(bearer(token))).status).toBe(200);
    // From here on every token is answered from the verified-token cache.
    const conflict = await request(app)
      .get('/ops/whoami')
      .set(bearer(tokens[0] as string))
      .set('x-tenant-id', 'globex');
    expect([conflict.status, conflict.body.code]).toEqual([403, 'TENANT_CONTEXT_CONFLICT']);
    const server = app.listen(0, '127.0.0.1');
    try {
      const agent = request(server);
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => {
          const k = i % tenants.length;
          return agent
            .get('/ops/whoami')
            .set(bearer(tokens[k] as string))
            .then((res) => ({ expected: tenants[k], got: res.body.tenantId, actor: res.body.actor }));
        }),
      );
      expect(results.filter((r) => r.got !== r.expected || r.actor !== `u-${r.expected}`)).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('the context ends with the request: the next request on the same connection starts without it', async () => {
    const t = tenancy({ auth: AUTH, audit: noopAuditPort, rateLimit: false, publicPaths: ['/public'] });
    const app = express();
    app.use(t);
    const who: express.RequestHandler = (_req, res) => {
      res.json({ tenantId: currentTenantContext()?.tenantId ?? null });
    };
    app.get('/ops/who', who);
    app.post('/ops/who', who);
    app.get('/public/who', who);
    app.post('/public/who', who);
    app.use(t.errors);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
      new Promise<unknown>((resolve, reject) => {
        const req = httpRequest({ port, host: '127.0.0.1', method, path, agent, headers }, (res) => {
          sockets.add(res.socket);
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () => resolve(JSON.parse(text).tenantId));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const auth = bearer(await mint({ tenantId: 'acme' }));
      const json = { ...auth, 'content-type': 'application/json' };
      expect(await call('GET', '/ops/who', auth)).toBe('acme');
      // Cached now: GET and POST (body parsed first) take the synchronous path; after each, a public
      // request on the same keep-alive connection sees no tenant.
      expect(await call('GET', '/ops/who', auth)).toBe('acme');
      expect(await call('GET', '/public/who')).toBeNull();
      expect(await call('POST', '/ops/who', json, '{"a":1}')).toBe('acme');
      expect(await call('GET', '/public/who')).toBeNull();
      expect(await call('POST', '/public/who', { 'content-type': 'application/json' }, '{"a":1}')).toBeNull();
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
      server.close();
    }
  });
});

describe('gatekeeper, segments and roles', () => {
  it('refuses a suspended tenant and an unpaid subscription with their codes; a tenant admin passes to pay', async () => {
    const suspended = await request(t.app)
      .get('/ops/whoami')
      .set(bearer(await mint({ tenantId: 'umbrella' })));
    expect([suspended.status, suspended.body.code]).toEqual([403, 'TENANT_SUSPENDED']);
    const unpaid = await request(t.app)
      .get('/ops/whoami')
      .set(bearer(await mint({ tenantId: 'hooli' })));
    expect([unpaid.status, unpaid.body.code]).toEqual([402, 'SUBSCRIPTION_PAST_DUE']);
    const admin = await request(t.app)
      .get('/back-office/settings')
      .set(bearer(await mint({ tenantId: 'hooli', roles: ['TENANT_ADMIN'] })));
    expect(admin.status).toBe(200);
  });

  it('decides from a started config cache at once, and a tenant suspended meanwhile is refused on its next request', async () => {
    const store = await seedTenants();
    const bus = new MemoryInvalidationBus();
    const cache = createTenantConfigCache({ store, bus });
    await cache.start();
    // Which of the cache's two doors each request went through.
    const config = countingConfigSource(cache);
    const cached = await buildApp({ gatekeeper: createGatekeeper({ config }) });
    const acme = bearer(await mint({ tenantId: 'acme' }));
    for (let i = 0; i < 3; i++)
      expect((await request(cached.app).get('/ops/whoami').set(acme)).status).toBe(200);
    // The first request loads through get; the next two are answered by peek alone (no promise).
    expect([config.reads, cache.stats().misses, cache.stats().hits]).toEqual([{ get: 1, peek: 3 }, 1, 2]);
    const unpaid = await request(cached.app)
      .get('/ops/whoami')
      .set(bearer(await mint({ tenantId: 'hooli' })));
    expect([unpaid.status, unpaid.body.code]).toEqual([402, 'SUBSCRIPTION_PAST_DUE']);
    await runAsSystem({ actor: SEEDER, reason: 'test' }, noopAuditPort, () =>
      createTenantDirectory({ store, bus }).suspendTenant('acme'),
    );
    const refused = await request(cached.app).get('/ops/whoami').set(acme);
    expect([refused.status, refused.body.code]).toEqual([403, 'TENANT_SUSPENDED']);
    const again = await request(cached.app).get('/ops/whoami').set(acme);
    expect([again.status, again.body.code]).toEqual([403, 'TENANT_SUSPENDED']);
    await cache.close();
  });

  it('with settleOnlyPaths, a tenant admin of an unpaid tenant reaches only the billing routes', async () => {
    const settle = await buildApp({ settleOnlyPaths: ['/back-office/billing'] });
    const admin = bearer(await mint({ tenantId: 'hooli', roles: ['TENANT_ADMIN'] }));
    const settings = await request(settle.app).get('/back-office/settings').set(admin);
    expect([settings.status, settings.body.code]).toEqual([402, 'SUBSCRIPTION_PAST_DUE']);
    const billing = await request(settle.app).get('/back-office/billing').set(admin);
    expect(billing.body.code).toBe('HTTP_NOT_FOUND'); // admitted; the test app has no such route
    const paid = await request(settle.app)
      .get('/back-office/settings')
      .set(bearer(await mint({ roles: ['TENANT_ADMIN'] })));
    expect(paid.status).toBe(200);
  });

  it('guards the API segments with their role sets', async () => {
    const user = bearer(await mint({ roles: ['USER'] }));
    expect((await request(t.app).get('/ops/whoami').set(user)).status).toBe(200);
    const bo = await request(t.app).get('/back-office/settings').set(user);
    expect([bo.status, bo.body.code]).toEqual([403, 'PERMISSION_DENIED']);
    const sys = await request(t.app)
      .get('/sys-mgt/tenants')
      .set(bearer(await mint({ roles: ['TENANT_ADMIN'] })));
    expect(sys.status).toBe(403);
    // Express routes ignore case: every casing that reaches the route meets the segment's guard.
    for (const path of ['/SYS-MGT/tenants', '/Sys-Mgt/tenants', '/sys-mgt/TENANTS']) {
      const res = await request(t.app).get(path).set(user);
      expect([path, res.status, res.body.code]).toEqual([path, 403, 'PERMISSION_DENIED']);
    }
    const upper = await request(t.app).get('/BACK-OFFICE/settings').set(user);
    expect([upper.status, upper.body.code]).toEqual([403, 'PERMISSION_DENIED']);
    // Platform staff carry no tenant: they reach system management, and cannot name a tenant.
    const platform = bearer(await mint({ tenantId: null, roles: ['SUPER_ADMIN'] }));
    expect((await request(t.app).get('/sys-mgt/tenants').set(platform)).status).toBe(200);
    const named = await request(t.app).get('/sys-mgt/tenants').set(platform).set('x-tenant-id', 'acme');
    // Core's T1 rule: credentials without a tenant are no tenant context; naming one there is refused.
    expect([named.status, named.body.code]).toEqual([403, 'TENANT_CONTEXT_MISSING']);
  });

  it('requireRoles refuses actors without the role', async () => {
    const manager = await request(t.app)
      .delete('/back-office/users/9')
      .set(bearer(await mint({ roles: ['MANAGER'] })));
    expect([manager.status, manager.body.code]).toEqual([403, 'PERMISSION_DENIED']);
    const admin = await request(t.app)
      .delete('/back-office/users/9')
      .set(bearer(await mint({ roles: ['TENANT_ADMIN'] })));
    expect(admin.status).toBe(204);
  });
});

describe('untrusted client tenant resolver (explicit opt-in)', () => {
  it('needs its literal acknowledgement', async () => {
    await expect(
      buildApp({ untrustedClientTenant: { acknowledge: 'yes' as never, resolve: () => 'acme' } }),
    ).rejects.toSatisfy((e) => isTenantryError(e, 'VALIDATION_FAILED'));
  });

  it('lets a request without token act for the subdomain tenant, anonymously; a token still decides when it names a tenant', async () => {
    const { app } = await buildApp({
      tenantHints: { header: 'x-tenant-id', subdomainOf: 'app.test' },
      untrustedClientTenant: {
        acknowledge: 'the client chooses the tenant',
        resolve: (req) => req.hostname?.split('.')[0],
      },
    });
    const anon = await request(app).get('/ops/whoami').set('host', 'globex.app.test');
    // Anonymous actors hold no role of the operations segment.
    expect([anon.status, anon.body.code]).toEqual([403, 'PERMISSION_DENIED']);
    const conflict = await request(app)
      .get('/ops/whoami')
      .set('host', 'globex.app.test')
      .set(bearer(await mint({ tenantId: 'acme' })));
    expect([conflict.status, conflict.body.code]).toEqual([403, 'TENANT_CONTEXT_CONFLICT']);
    const staff = await request(app)
      .get('/ops/whoami')
      .set('host', 'globex.app.test')
      .set(bearer(await mint({ tenantId: null, roles: ['USER'], sub: 'u-x' })));
    expect(staff.body).toMatchObject({ tenantId: 'globex', actor: 'u-x' });
  });
});

describe('audit of mutating requests', () => {
  it('records actor, impersonator, route, resource, outcome, status and request facts with the body masked', async () => {
    const before = t.audit.events.length;
    const token = await mint({ sub: 'u-1', act: { sub: 'support-7', roles: ['SUPER_ADMIN'] } });
    const res = await request(t.app)
      .put('/ops/items/42')
      .set(bearer(token))
      .set('user-agent', 'vitest-agent')
      .set('x-request-id', 'req-audit')
      .send({ name: 'n', password: 'hunter2' });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
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
      request: { userAgent: 'vitest-agent', requestId: 'req-audit' },
      metadata: { status: 200, body: { name: 'n', password: '[MASKED]' } },
    });
    expect(JSON.stringify(events)).not.toContain('hunter2');
  });

  it('names the route of a mounted router by its patterns, not by the path it was called with', async () => {
    const audit = new MemoryAuditPort();
    const t2 = tenancy({ auth: AUTH, audit, rateLimit: false });
    const notes = express.Router();
    notes.put('/note', (_req, res) => {
      res.json({ ok: true });
    });
    const app = express();
    app.use(t2);
    app.use('/ops/customers/:customer', notes);
    app.use(t2.errors);
    await request(app)
      .put('/ops/customers/alice@example.com/note')
      .set(bearer(await mint()))
      .send({});
    await new Promise((r) => setTimeout(r, 20));
    expect(audit.events.map((e) => e.targets?.[0]?.id)).toEqual(['PUT /ops/customers/:customer/note']);
    expect(JSON.stringify(audit.events)).not.toContain('alice@example.com');
  });

  it('masks secrets in the body whatever their spelling (snake, kebab, upper case), at any depth', async () => {
    const before = t.audit.events.length;
    const secrets = {
      new_password: 'secret-1',
      'api-key': 'secret-2',
      access_token: 'secret-3',
      refresh_token: 'secret-4',
      client_secret: 'secret-5',
      nested: [{ Access_Token: 'secret-6' }],
    };
    const res = await request(t.app)
      .put('/ops/items/43')
      .set(bearer(await mint()))
      .send({ name: 'n', ...secrets });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    const events = t.audit.events.slice(before);
    expect(events).toHaveLength(1);
    const text = JSON.stringify(events);
    for (let i = 1; i <= 6; i++) expect(text).not.toContain(`secret-${i}`);
    expect(events[0]?.metadata).toMatchObject({ body: { name: 'n', access_token: '[MASKED]' } });
  });

  it('does not audit reads, and audits refusals of writes as denied', async () => {
    const before = t.audit.events.length;
    await request(t.app)
      .get('/ops/whoami')
      .set(bearer(await mint()));
    await request(t.app)
      .post('/ops/items')
      .set(bearer(await mint({ tenantId: 'umbrella' })))
      .send({ name: 'x', qty: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const events = t.audit.events.slice(before);
    expect(events.map((e) => [e.tenantId, e.outcome, e.metadata?.status])).toEqual([
      ['umbrella', 'denied', 403],
    ]);
  });

  it('fail-closed routes answer 503 when the audit write fails, and never send the handler body', async () => {
    const failing = await appWithFailingAudit();
    const res = await request(failing.app)
      .post('/ops/payouts/7')
      .set(bearer(await mint()));
    expect([res.status, res.body.code]).toEqual([503, 'HTTP_AUDIT_UNAVAILABLE']);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.text).not.toContain('payout-body');
    // A fail-open route still answers.
    const open = await request(failing.app)
      .post('/ops/items')
      .set(bearer(await mint()))
      .send({ name: 'x', qty: 1 });
    expect(open.status).toBe(201);
    // With a working port, the fail-closed route answers after the event is written.
    const ok = await request(t.app)
      .post('/ops/payouts/8')
      .set(bearer(await mint()));
    expect(ok.status).toBe(201);
    expect(t.audit.events.at(-1)).toMatchObject({
      targets: [{}, { type: 'payout', id: '8' }],
      outcome: 'success',
    });
  });
});

describe('audit of mutating requests, exactly once', () => {
  const eventsFor = (type: string, id: string) =>
    t.audit.events.filter((e) => e.targets?.some((x) => x.type === type && x.id === id));

  it('records one event per request on fail-open and fail-closed routes', async () => {
    for (const path of ['/ops/payouts/91', '/ops/refunds/92']) {
      const res = await request(t.app)
        .post(path)
        .set(bearer(await mint()));
      expect([path, res.status]).toEqual([path, 201]);
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(eventsFor('payout', '91')).toHaveLength(1);
    expect(eventsFor('refund', '92')).toHaveLength(1);
  });

  it('a later audited() without failClosed answers even when the audit write fails', async () => {
    const failing = await appWithFailingAudit();
    const res = await request(failing.app)
      .post('/ops/refunds/93')
      .set(bearer(await mint()));
    expect([res.status, res.body]).toEqual([201, { refunded: '93' }]);
  });

  it('a fail-closed handler that answers and then throws gets one answer, and the server lives on', async () => {
    for (const app of [t.app, (await appWithFailingAudit()).app]) {
      const res = await request(app)
        .post('/ops/payouts-then-throw/94')
        .set(bearer(await mint()));
      expect(res.status).toBe(500);
      expect(res.text).not.toContain('payout-body');
      await new Promise((r) => setTimeout(r, 20));
      // No unhandled error took the process down: the next request is answered.
      expect(
        (
          await request(app)
            .post('/ops/items')
            .set(bearer(await mint()))
            .send({ name: 'x', qty: 1 })
        ).status,
      ).toBe(201);
    }
  });

  it('leaves the response object alone on routes that do not fail closed', async () => {
    const res = await request(t.app)
      .post('/ops/response-shape')
      .set(bearer(await mint()))
      .send({});
    expect(res.body).toEqual({ ownEnd: false });
  });
});

describe('errors and security defaults', () => {
  it('answers unexpected errors with a bare 500 problem: no message, stack or SQL', async () => {
    const res = await request(t.app)
      .get('/ops/crash')
      .set(bearer(await mint()));
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'instance', 'status', 'title', 'type']);
    expect(res.text).not.toMatch(/SELECT|duplicate|users_email|at |\.ts/);
  });

  it('answers validation failures with 400 and field paths, unknown routes with 404', async () => {
    const res = await request(t.app)
      .post('/ops/items')
      .set(bearer(await mint()))
      .send({ name: '', qty: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['name', 'qty']);
    const missing = await request(t.app)
      .get('/ops/nothing-here')
      .set(bearer(await mint()));
    expect([missing.status, missing.body.code]).toEqual([404, 'HTTP_NOT_FOUND']);
    const badJson = await request(t.app)
      .post('/ops/items')
      .set(bearer(await mint()))
      .set('content-type', 'application/json')
      .send('{"name": ');
    expect([badJson.status, badJson.body.code]).toEqual([400, 'HTTP_BAD_REQUEST']);
    // A malformed %-escape in a route parameter (the router's URIError): a client error, not a 500.
    const badParam = await request(t.app)
      .put('/ops/items/%E0%A4%A')
      .set(bearer(await mint()))
      .send({ name: 'n' });
    expect([badParam.status, badParam.body.code]).toEqual([400, 'HTTP_BAD_REQUEST']);
    expect(JSON.stringify(badParam.body)).not.toContain('decode');
  });

  it('sends exactly the headers helmet sends (replayed once recorded), and runs helmet per request for CSP nonces', async () => {
    const helmetOnly = express();
    helmetOnly.use(helmet());
    helmetOnly.get('/x', (_req, res) => void res.end());
    const expected = (await request(helmetOnly).get('/x')).headers;
    const ours = (await request(t.app).get('/health/live')).headers;
    const securityHeaders = Object.keys(expected).filter(
      (h) => !['date', 'connection', 'content-length', 'keep-alive'].includes(h),
    );
    expect(securityHeaders.length).toBeGreaterThan(10);
    for (const h of securityHeaders) expect([h, ours[h]]).toEqual([h, expected[h]]);
    expect(ours['x-powered-by']).toBeUndefined();
    // A nonce function in the options makes the header differ per request: it must not be frozen.
    let n = 0;
    const withNonce = await buildApp({
      helmet: { contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => `'nonce-n${++n}'`] } } },
    });
    const a = await request(withNonce.app).get('/health/live');
    const b = await request(withNonce.app).get('/health/live');
    expect(a.headers['content-security-policy']).toContain("'nonce-n");
    expect(a.headers['content-security-policy']).not.toBe(b.headers['content-security-policy']);
  });

  it('sends no helmet headers with helmet: false (a gateway sets them), and keeps the rest of the wiring', async () => {
    const off = await buildApp({ helmet: false });
    const live = await request(off.app).get('/health/live');
    expect(live.status).toBe(200);
    expect(live.headers['content-security-policy']).toBeUndefined();
    expect(live.headers['strict-transport-security']).toBeUndefined();
    expect(live.headers['x-request-id']).toMatch(/\S/);
    const who = await request(off.app)
      .get('/ops/whoami')
      .set(bearer(await mint({ sub: 'u-2' })));
    expect([who.status, who.body.actor, who.headers['content-security-policy']]).toEqual([
      200,
      'u-2',
      undefined,
    ]);
    const refused = await request(off.app).get('/ops/whoami');
    expect([refused.status, refused.body.code]).toEqual([401, 'HTTP_TOKEN_MISSING']);
  });

  it('sets helmet headers, no X-Powered-By, no CORS unless configured, and limits the body size', async () => {
    const res = await request(t.app).get('/health/live').set('origin', 'https://evil.test');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['strict-transport-security']).toContain('max-age=');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const big = await request(t.app)
      .post('/ops/items')
      .set(bearer(await mint()))
      .send({ name: 'x'.repeat(200_000), qty: 1 });
    expect([big.status, big.body.code]).toEqual([413, 'HTTP_PAYLOAD_TOO_LARGE']);
    const withCors = await buildApp({ cors: { origins: ['https://app.example.com'] } });
    const allowed = await request(withCors.app).get('/health/live').set('origin', 'https://app.example.com');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const refused = await request(withCors.app).get('/health/live').set('origin', 'https://evil.test');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses malformed options, and an audit port left out', async () => {
    await expect(buildApp({ bodyLimit: 'lots' as never })).rejects.toSatisfy((e) =>
      isTenantryError(e, 'VALIDATION_FAILED'),
    );
    await expect(buildApp({ audit: undefined as never, auditPort: undefined as never })).rejects.toSatisfy(
      (e) => isTenantryError(e, 'VALIDATION_FAILED'),
    );
    await expect(buildApp({ auditPort: noopAuditPort })).resolves.toBeDefined();
  });
});
