// A configured bodyLimit on Nest with Express registers the body parsers itself (so Nest skips its own):
// apart from the limit, bodies must parse exactly as with Nest's parsers (urlencoded: extended, nested keys).
import { Body, Post } from '@nestjs/common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NestTestApp, bearer, buildNestApp, controller, mint } from './helpers.js';

const Echo = controller('ops', {
  echo: { decorators: [Post('echo')], params: [Body()], handler: ((body: unknown) => ({ body })) as never },
});

describe('Nest on Express: body parsing with and without a configured bodyLimit', () => {
  let plain: NestTestApp;
  let limited: NestTestApp;
  beforeAll(async () => {
    plain = await buildNestApp('express', {}, { controllers: [Echo] });
    limited = await buildNestApp('express', { bodyLimit: '2kb' }, { controllers: [Echo] });
  });
  afterAll(async () => {
    await plain?.close();
    await limited?.close();
  });

  const post = async (app: NestTestApp, form: string) =>
    request(app.app.getHttpServer())
      .post('/ops/echo')
      .set(bearer(await mint()))
      .type('form')
      .send(form);

  it("a configured bodyLimit keeps Nest's extended urlencoded parsing (nested keys)", async () => {
    const form = 'item[name]=x&item[tags][]=a&item[tags][]=b';
    const expected = { item: { name: 'x', tags: ['a', 'b'] } };
    const before = await post(plain, form);
    expect([before.status, before.body.body]).toEqual([201, expected]);
    const after = await post(limited, form);
    expect([after.status, after.body.body]).toEqual([201, expected]);
  });
});
