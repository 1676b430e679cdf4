// Answers Nest gives before any route runs (a body parser's 413 and 400, a CORS preflight) carry the
// same security headers and request id as every other answer, on Express and on Fastify (issue 16).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NestTestApp, type Platform, bearer, buildNestApp, mint } from './helpers.js';

const APP = 'https://app.example.com';

function expectSecured(res: request.Response): void {
  expect(res.headers['x-powered-by']).toBeUndefined();
  expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
  expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-request-id']).toMatch(/\S/);
}

describe.each(['express', 'fastify'] as Platform[])('early answers of Nest on %s', (platform) => {
  let nest: NestTestApp;
  let token: string;
  beforeAll(async () => {
    nest = await buildNestApp(platform, { cors: { origins: [APP] }, bodyLimit: '2kb' });
    token = await mint();
  });
  afterAll(async () => {
    await nest?.close();
  });

  it('a too-large body: 413 problem with helmet headers, a request id and instance', async () => {
    const res = await request(nest.app.getHttpServer())
      .post('/ops/items')
      .set(bearer(token))
      .set('x-request-id', 'client-id-413')
      .send({ name: 'x'.repeat(3_000), qty: 1 });
    expect([res.status, res.body.code]).toEqual([413, 'HTTP_PAYLOAD_TOO_LARGE']);
    expectSecured(res);
    expect(res.body.instance).toBe(`urn:request:${res.headers['x-request-id']}`);
  });

  it('malformed JSON: 400 problem with helmet headers, a request id and instance', async () => {
    const res = await request(nest.app.getHttpServer())
      .post('/ops/items')
      .set(bearer(token))
      .set('content-type', 'application/json')
      .send('{"name": ');
    expect([res.status, res.body.code]).toEqual([400, 'HTTP_BAD_REQUEST']);
    expectSecured(res);
    expect(res.body.instance).toBe(`urn:request:${res.headers['x-request-id']}`);
  });

  it('a URL that cannot be decoded: a problem with helmet headers and a request id, no path echoed', async () => {
    const res = await request(nest.app.getHttpServer()).get('/ops/%E0%A4%A').set(bearer(token));
    // Fastify refuses the URL before routing; Express routes the raw path and finds no route.
    expect([res.status, res.body.code]).toEqual(
      platform === 'fastify' ? [400, 'HTTP_BAD_REQUEST'] : [404, 'HTTP_NOT_FOUND'],
    );
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expectSecured(res);
    expect(res.body.instance).toBe(`urn:request:${res.headers['x-request-id']}`);
    expect(JSON.stringify(res.body)).not.toMatch(/FST_|%E0/);
  });

  it('a CORS preflight: 204 with helmet headers and a request id', async () => {
    const res = await request(nest.app.getHttpServer())
      .options('/ops/items')
      .set('origin', APP)
      .set('access-control-request-method', 'POST');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expectSecured(res);
  });

  it('a routed answer keeps one request id (the early one), echoed by the handler', async () => {
    const res = await request(nest.app.getHttpServer()).get('/ops/whoami').set(bearer(token));
    expect(res.status).toBe(200);
    expectSecured(res);
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
  });
});
