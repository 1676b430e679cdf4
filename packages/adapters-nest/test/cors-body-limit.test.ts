// CORS off unless configured, and a body limit by default (100kb, as @tenantry/express), on Nest with
// Express and with Fastify: a too-large body is a 413 problem+json with a code, never a stack.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NestTestApp, type Platform, bearer, buildNestApp, mint } from './helpers.js';

const APP = 'https://app.example.com';
const preflight = (server: unknown, origin: string) =>
  request(server as never)
    .options('/ops/items')
    .set('origin', origin)
    .set('access-control-request-method', 'POST')
    .set('access-control-request-headers', 'authorization,content-type');
const corsHeaders = (headers: Record<string, unknown>) =>
  Object.keys(headers).filter((h) => h.startsWith('access-control-'));
const item = (bytes: number) => ({ name: 'x'.repeat(bytes), qty: 1 });

describe.each(['express', 'fastify'] as Platform[])('CORS and body limit of Nest on %s', (platform) => {
  let plain: NestTestApp;
  let configured: NestTestApp;
  beforeAll(async () => {
    plain = await buildNestApp(platform);
    configured = await buildNestApp(platform, {
      cors: { origins: [APP], credentials: true },
      bodyLimit: '2kb',
    });
  });
  afterAll(async () => {
    await plain?.close();
    await configured?.close();
  });

  it('sends no CORS headers by default, not even to a preflight', async () => {
    const pre = await preflight(plain.app.getHttpServer(), APP);
    expect(corsHeaders(pre.headers)).toEqual([]);
    const get = await request(plain.app.getHttpServer())
      .get('/ops/whoami')
      .set('origin', APP)
      .set(bearer(await mint()));
    expect(get.status).toBe(200);
    expect(corsHeaders(get.headers)).toEqual([]);
  });

  it('answers a preflight from a configured origin only', async () => {
    const pre = await preflight(configured.app.getHttpServer(), APP);
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers['access-control-allow-origin']).toBe(APP);
    expect(pre.headers['access-control-allow-credentials']).toBe('true');
    expect(pre.headers['access-control-max-age']).toBe('600');
    const other = await preflight(configured.app.getHttpServer(), 'https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const get = await request(configured.app.getHttpServer())
      .get('/ops/whoami')
      .set('origin', APP)
      .set(bearer(await mint()));
    expect([get.status, get.headers['access-control-allow-origin']]).toEqual([200, APP]);
  });

  it('refuses a body over 100kb by default with 413 problem+json, and takes one under it', async () => {
    const token = await mint();
    const big = await request(plain.app.getHttpServer())
      .post('/ops/items')
      .set(bearer(token))
      .send(item(150_000));
    expect(big.status).toBe(413);
    expect(big.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(big.body).toEqual({
      type: 'about:blank',
      title: 'Payload Too Large',
      status: 413,
      code: 'HTTP_PAYLOAD_TOO_LARGE',
      detail: 'The request body is too large',
      // The request id is drawn before the body parser, so even its 413 names the request.
      instance: `urn:request:${big.headers['x-request-id']}`,
    });
    const ok = await request(plain.app.getHttpServer())
      .post('/ops/items')
      .set(bearer(token))
      .send(item(50_000));
    expect(ok.status).toBe(201);
  });

  it('applies a configured bodyLimit', async () => {
    const token = await mint();
    const server = configured.app.getHttpServer();
    const big = await request(server).post('/ops/items').set(bearer(token)).send(item(3_000));
    expect([big.status, big.body.code]).toEqual([413, 'HTTP_PAYLOAD_TOO_LARGE']);
    expect((await request(server).post('/ops/items').set(bearer(token)).send(item(1_000))).status).toBe(201);
  });
});
