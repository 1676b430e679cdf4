// @Pii() masks DTO fields in the request's audit event; @SanitizeHtml() cleans HTML fields with
// sanitize-html; helmet headers by default; /health/live and /health/ready (readiness of the stores,
// 503 from shutdown on). Nest on Express and on Fastify.
import 'reflect-metadata';
import { Body, Post } from '@nestjs/common';
import { isTenantryError, requireTenant } from '@tenantry/core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Audited, Pii, SanitizeHtml, type SanitizeHtmlOptions, TenancyHealthModule } from '../src/index.js';
import { type NestTestApp, type Platform, bearer, buildNestApp, controller, mint } from './helpers.js';

class ContactDto {
  name!: string;
  email!: string;
  iban!: string;
}
Pii()(ContactDto.prototype, 'email');
Pii()(ContactDto.prototype, 'iban');

class VipContactDto extends ContactDto {
  phone!: string;
}
Pii()(VipContactDto.prototype, 'phone');

class NoteDto {
  title!: string;
  body!: string;
  tags!: string[];
  plain!: string;
}
class AddressDto {
  line!: string;
}
SanitizeHtml()(AddressDto.prototype, 'line');
class RichNoteDto {
  rendered!: string;
  lines!: string[];
  address!: AddressDto;
  anyShape!: unknown;
}
SanitizeHtml()(RichNoteDto.prototype, 'rendered');
SanitizeHtml()(RichNoteDto.prototype, 'lines');
SanitizeHtml()(RichNoteDto.prototype, 'anyShape');
// As `nest build` emits for a decorated property typed with a class.
Reflect.defineMetadata('design:type', AddressDto, RichNoteDto.prototype, 'address');

SanitizeHtml({ allowedTags: ['b'] })(NoteDto.prototype, 'title');
SanitizeHtml()(NoteDto.prototype, 'body');
SanitizeHtml()(NoteDto.prototype, 'tags');

const Contacts = controller('ops/contacts', {
  // The body's type as `nest build` emits it (design:paramtypes); the test's compiler does not.
  create: {
    decorators: [Post()],
    params: [Body()],
    handler: ((body: ContactDto) => ({ tenantId: requireTenant().tenantId, name: body.name })) as never,
  },
  vip: {
    decorators: [Post('vip'), Audited({ body: VipContactDto, maskPaths: ['address.street'] })],
    params: [Body()],
    handler: ((body: VipContactDto) => ({ name: body.name })) as never,
  },
  note: {
    decorators: [Post('notes')],
    params: [Body()],
    handler: ((body: NoteDto) => body) as never,
  },
  richNote: {
    decorators: [Post('rich-notes')],
    params: [Body()],
    handler: ((body: RichNoteDto) => body) as never,
  },
});
Reflect.defineMetadata('design:paramtypes', [RichNoteDto], Contacts.prototype, 'richNote');
Reflect.defineMetadata('design:paramtypes', [ContactDto], Contacts.prototype, 'create');
Reflect.defineMetadata('design:paramtypes', [Object], Contacts.prototype, 'vip');
Reflect.defineMetadata('design:paramtypes', [NoteDto], Contacts.prototype, 'note');

describe.each(['express', 'fastify'] as Platform[])('security defaults of Nest on %s', (platform) => {
  let t: NestTestApp;
  let redisUp = true;
  const server = () => t.app.getHttpServer();
  beforeAll(async () => {
    t = await buildNestApp(
      platform,
      {},
      {
        imports: [
          TenancyHealthModule.forRoot({
            readiness: {
              custom: {
                redis: async () => {
                  if (!redisUp) throw new Error('down');
                },
              },
            },
          }),
        ],
        controllers: [Contacts],
      },
    );
  });
  afterAll(() => t.close());

  const lastEvent = async (route: string) => {
    await new Promise((r) => setTimeout(r, 30));
    const found = [...t.audit.events]
      .reverse()
      .find((e) => (e.metadata as { route?: string }).route === route);
    return found?.metadata as { body?: Record<string, unknown> } | undefined;
  };

  it('masks @Pii() fields of the body DTO in the audit event (by parameter type, inherited, @Audited({ body }))', async () => {
    const token = bearer(await mint());
    const res = await request(server())
      .post('/ops/contacts')
      .set(token)
      .send({ name: 'Ann', email: 'ann@example.com', iban: 'DE89370400440532013000' });
    expect(res.status).toBe(201);
    const body = (await lastEvent('/ops/contacts'))?.body;
    expect(body).toMatchObject({ name: 'Ann', email: '[MASKED]', iban: '[MASKED]' });
    expect(JSON.stringify(t.audit.events)).not.toContain('ann@example.com');

    await request(server())
      .post('/ops/contacts/vip')
      .set(token)
      .send({
        name: 'Bo',
        email: 'bo@example.com',
        iban: 'X',
        phone: '+4912345',
        address: { street: 'Main 1', city: 'Ulm' },
      })
      .expect(201);
    const vip = (await lastEvent('/ops/contacts/vip'))?.body;
    expect(vip).toMatchObject({
      name: 'Bo',
      email: '[MASKED]',
      iban: '[MASKED]',
      phone: '[MASKED]',
      address: { street: '[MASKED]', city: 'Ulm' },
    });
  });

  it('cleans @SanitizeHtml() fields with sanitize-html, leaves unmarked fields alone', async () => {
    const res = await request(server())
      .post('/ops/contacts/notes')
      .set(bearer(await mint()))
      .send({
        title: '<b>bold</b> <i>it</i><script>alert(1)</script>',
        body: '<p onclick="x()">hi <a href="javascript:alert(1)">x</a> <a href="https://ok.test/">y</a></p><img src=x onerror=alert(1)>',
        tags: ['<script>alert(1)</script>ok', '<b>b</b>'],
        plain: '<script>kept</script>',
      });
    expect(res.status).toBe(201);
    expect(res.body.title).toBe('<b>bold</b> it');
    expect(res.body.body).not.toMatch(/onclick|javascript:|onerror|<img/i);
    expect(res.body.body).toContain('<a href="https://ok.test/">y</a>');
    expect(res.body.tags).toEqual(['ok', '<b>b</b>']);
    expect(res.body.plain).toBe('<script>kept</script>');
  });

  it('cleans every string of a marked field whatever its shape, and marked fields of nested DTOs', async () => {
    const xss = '<img src=x onerror=alert(1)>';
    const res = await request(server())
      .post('/ops/contacts/rich-notes')
      .set(bearer(await mint()))
      .send({
        rendered: [[`<p>${xss}</p>`]],
        lines: [[xss], { deep: [xss] }],
        address: { line: `<b>x</b>${xss}`, city: 'kept <i>as is</i>' },
        anyShape: { a: { b: `<script>alert(1)</script>${xss}ok` } },
      });
    expect(res.status).toBe(201);
    expect(JSON.stringify(res.body)).not.toMatch(/onerror|<img|<script/i);
    expect(res.body.rendered).toEqual([['<p></p>']]);
    expect(res.body.anyShape).toEqual({ a: { b: 'ok' } });
    expect(res.body.address).toEqual({ line: '<b>x</b>', city: 'kept <i>as is</i>' });
  });

  it('refuses @SanitizeHtml() options that would let a script or an event handler through', () => {
    const code = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return isTenantryError(e) ? e.code : 'RAW';
      }
    };
    const unsafe: SanitizeHtmlOptions[] = [
      { allowedTags: ['script'] },
      { allowedTags: ['b', 'SVG'] },
      { allowedAttributes: { a: ['href', 'onclick'] } },
      { allowedAttributes: { '*': ['ONMOUSEOVER'] } },
      { allowedAttributes: { a: ['o*'] } },
      { allowedAttributes: { div: ['style'] } },
      { allowedAttributes: { iframe: ['src'] } },
    ];
    for (const options of unsafe) {
      expect([JSON.stringify(options), code(() => SanitizeHtml(options))]).toEqual([
        JSON.stringify(options),
        'VALIDATION_FAILED',
      ]);
    }
    expect(
      code(() => SanitizeHtml({ allowedTags: ['a'], allowedAttributes: { a: ['href', 'data-*'] } })),
    ).toBe('ok');
  });

  it('sends helmet headers (CSP, HSTS, nosniff) and no X-Powered-By, on answers and on problems', async () => {
    for (const res of [
      await request(server())
        .get('/ops/whoami')
        .set(bearer(await mint())),
      await request(server()).get('/ops/whoami'),
    ]) {
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('answers /health/live and /health/ready without a token; ready is 503 with a store down', async () => {
    expect((await request(server()).get('/health/live')).body).toEqual({ status: 'ok' });
    const up = await request(server()).get('/health/ready');
    expect([up.status, up.body]).toEqual([200, { status: 'ready', checks: { redis: 'up' } }]);
    redisUp = false;
    const down = await request(server()).get('/health/ready');
    expect([down.status, down.body.checks]).toEqual([503, { redis: 'down' }]);
    redisUp = true;
  });
});

describe('options of the security decorators', () => {
  it('refuse malformed options with VALIDATION_FAILED', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isTenantryError(e) ? e.code : 'untyped';
      }
      return undefined;
    };
    for (const bad of [null, [], { allowedTags: 'b' }, { allowedAttributes: { a: 'href' } }]) {
      expect(code(() => SanitizeHtml(bad as never))).toBe('VALIDATION_FAILED');
    }
    for (const bad of [null, { path: 'x' }, { readiness: 1 }]) {
      expect(code(() => TenancyHealthModule.forRoot(bad as never))).toBe('VALIDATION_FAILED');
    }
    expect(code(() => Audited({ body: 1 as never }))).toBe('VALIDATION_FAILED');
    expect(code(() => Audited({ maskPaths: [''] }))).toBe('VALIDATION_FAILED');
  });
});
