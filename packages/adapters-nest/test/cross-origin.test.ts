// Attacks on the CORS and body-limit settings of TenancyModule: a simple (non-preflight) cross-origin
// request from an origin not listed gets no Access-Control-Allow-Origin on either platform, and
// forRootAsync with malformed cors/bodyLimit fails when the app starts, with a typed error.
import 'reflect-metadata';
import { Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MemoryAuditPort, isTenantryError } from '@tenantry/core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenancyModule } from '../src/index.js';
import { AUTH, type NestTestApp, type Platform, bearer, buildNestApp, mint } from './helpers.js';

describe.each(['express', 'fastify'] as Platform[])(
  'CORS of Nest on %s, from an unlisted origin',
  (platform) => {
    let app: NestTestApp;
    beforeAll(async () => {
      app = await buildNestApp(platform, {
        cors: { origins: ['https://app.example.com'], credentials: true },
      });
    });
    afterAll(() => app?.close());

    it.each([
      'https://evil.example',
      'null',
      'https://app.example.com.evil.example',
      'https://APP.example.com',
    ])('a simple GET from %s is answered without Access-Control-Allow-Origin', async (origin) => {
      const res = await request(app.app.getHttpServer())
        .get('/ops/whoami')
        .set('origin', origin)
        .set(bearer(await mint()));
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });
  },
);

describe('TenancyModule.forRootAsync validates cors and bodyLimit when the app starts', () => {
  const start = async (options: Record<string, unknown>) => {
    const App = class {};
    Reflect.decorate(
      [
        Module({
          imports: [
            TenancyModule.forRootAsync({
              useFactory: () => ({ auth: AUTH, audit: new MemoryAuditPort(), ...options }) as never,
            }) as unknown as Type<unknown>,
          ],
        }) as ClassDecorator,
      ],
      App,
    );
    try {
      const app = await NestFactory.create(App, { logger: false, abortOnError: false });
      await app.close();
      return 'started';
    } catch (e) {
      return isTenantryError(e) ? e.code : String(e);
    }
  };
  it.each([
    ['no origins', { cors: { origins: [] } }],
    ['an origin that is not a string', { cors: { origins: [42] } }],
    ['a body limit in gigabytes', { bodyLimit: '1gb' }],
    ['a negative body limit', { bodyLimit: -1 }],
  ])('%s: VALIDATION_FAILED', async (_name, options) => {
    expect(await start(options)).toBe('VALIDATION_FAILED');
  });

  it('valid options start', async () => {
    expect(await start({ cors: { origins: ['https://app.example.com'] }, bodyLimit: '1mb' })).toBe('started');
  });
});
