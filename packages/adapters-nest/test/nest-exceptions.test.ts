// Nest's own exceptions thrown by an app's handlers become the Tenantry codes the README lists, on
// Express and on Fastify: a 401 from a sign-in handler is HTTP_UNAUTHORIZED, never a claim that a
// token is missing (issue 16).
import { Body, Post, UnauthorizedException } from '@nestjs/common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Public } from '../src/index.js';
import { type NestTestApp, type Platform, buildNestApp, controller } from './helpers.js';

const Auth = controller('auth', {
  signIn: {
    decorators: [Post('sign-in'), Public()],
    params: [Body()],
    handler: ((body: { password?: string }) => {
      if (body.password !== 'right') throw new UnauthorizedException('Wrong email or password');
      return { ok: true };
    }) as never,
  },
});

describe.each(['express', 'fastify'] as Platform[])("Nest's own exceptions on %s", (platform) => {
  let nest: NestTestApp;
  beforeAll(async () => {
    nest = await buildNestApp(platform, {}, { controllers: [Auth] });
  });
  afterAll(async () => {
    await nest?.close();
  });

  it('an UnauthorizedException from a public sign-in handler is 401 HTTP_UNAUTHORIZED', async () => {
    const server = nest.app.getHttpServer();
    const wrong = await request(server).post('/auth/sign-in').send({ password: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(wrong.body).toMatchObject({ status: 401, code: 'HTTP_UNAUTHORIZED' });
    expect(wrong.body.detail).not.toMatch(/token/i);
    const right = await request(server).post('/auth/sign-in').send({ password: 'right' });
    expect([right.status, right.body]).toEqual([201, { ok: true }]);
  });

  it('a protected route without a token is still HTTP_TOKEN_MISSING', async () => {
    const res = await request(nest.app.getHttpServer()).get('/ops/whoami');
    expect([res.status, res.body.code]).toEqual([401, 'HTTP_TOKEN_MISSING']);
  });
});
