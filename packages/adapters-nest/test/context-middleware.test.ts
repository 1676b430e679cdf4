// On Nest with Express, TenancyModule enters the tenant context in a plain Express middleware placed
// after the body parsers and before every `consumer.apply()` middleware: the app's own middlewares and
// body-reading handlers run inside the verified tenant's context; an unverified request has none.
import { type MiddlewareConsumer, Module } from '@nestjs/common';
import { currentTenantContext } from '@tenantry/core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NestTestApp, bearer, buildNestApp, mint } from './helpers.js';

/** An app module whose own middleware reports the tenant it sees in a response header. */
class SeesTenantModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply((_req: unknown, res: { setHeader(n: string, v: string): void }, next: () => void) => {
        res.setHeader('x-seen-tenant', currentTenantContext()?.tenantId ?? 'none');
        next();
      })
      .forRoutes('*splat');
  }
}
Reflect.decorate([Module({}) as ClassDecorator], SeesTenantModule);

describe('TenancyModule on Nest with Express: where the tenant context starts', () => {
  let t: NestTestApp;
  const server = () => t.app.getHttpServer();
  beforeAll(async () => {
    t = await buildNestApp('express', {}, { imports: [SeesTenantModule] });
  });
  afterAll(() => t.close());

  it("runs the app's own middleware inside the verified tenant's context", async () => {
    for (const tenantId of ['acme', 'globex']) {
      const res = await request(server())
        .get('/ops/whoami')
        .set(bearer(await mint({ tenantId })));
      expect(res.status).toBe(200);
      expect(res.headers['x-seen-tenant']).toBe(tenantId);
      expect(res.body.tenantId).toBe(tenantId);
    }
  });

  it('gives a body-reading handler the context, and unverified requests none', async () => {
    const created = await request(server())
      .post('/ops/items')
      .set(bearer(await mint({ tenantId: 'initech' })))
      .send({ name: 'x', qty: 1 });
    expect([created.status, created.body.tenantId, created.headers['x-seen-tenant']]).toEqual([
      201,
      'initech',
      'initech',
    ]);
    const forged = await request(server())
      .get('/ops/whoami')
      .set(bearer(await mint({ secret: 'another-secret-of-at-least-32-bytes!!' })));
    expect([forged.status, forged.headers['x-seen-tenant']]).toEqual([401, 'none']);
    const open = await request(server()).get('/public/ping');
    expect([open.status, open.headers['x-seen-tenant']]).toEqual([200, 'none']);
  });
});
