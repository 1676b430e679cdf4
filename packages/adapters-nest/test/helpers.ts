import 'reflect-metadata';
import {
  Body,
  Controller,
  Delete,
  type DynamicModule,
  Get,
  HttpCode,
  type INestApplication,
  Module,
  Param,
  Post,
  Put,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  type AuditPort,
  MemoryAuditPort,
  createGatekeeper,
  createTenantDirectory,
  directConfigSource,
  noopAuditPort,
  parseInput,
  requireTenant,
  runAsSystem,
} from '@tenantry/core';
import { MemoryTenantStore } from '@tenantry/core/memory';
import { type JWTPayload, SignJWT } from 'jose';
import { z } from 'zod';
import {
  Audited,
  CurrentActor,
  CurrentTenant,
  Public,
  Roles,
  TenancyModule,
  type TenancyModuleOptions,
} from '../src/index.js';

export const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
export const ISSUER = 'https://idp.test/';
export const AUDIENCE = 'tenantry-api';
export const AUTH = { key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE } as const;

export async function mint(
  o: {
    tenantId?: string | null;
    sub?: string;
    roles?: string[];
    act?: Record<string, unknown>;
    iss?: string;
    aud?: string;
    expiresIn?: string;
    secret?: string;
  } = {},
): Promise<string> {
  const claims: JWTPayload = { roles: o.roles ?? ['USER'] };
  if (o.tenantId !== null) claims.tenant_id = o.tenantId ?? 'acme';
  if (o.act) claims.act = o.act;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(o.sub ?? 'user-1')
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(o.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(o.secret ?? SECRET));
}
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Tenants: acme, globex, initech (active, paid); umbrella (suspended); hooli (past due). */
export async function seedTenants(): Promise<MemoryTenantStore> {
  const store = new MemoryTenantStore();
  const directory = createTenantDirectory({ store });
  // Back-office provisioning: platform-wide changes run in an (audited) system scope.
  await runAsSystem(
    { actor: { id: 'seeder', kind: 'service' }, reason: 'test provisioning' },
    noopAuditPort,
    async () => {
      await directory.putPlan({ id: 'pro', name: 'Pro' });
      for (const id of ['acme', 'globex', 'initech', 'umbrella', 'hooli']) {
        await directory.createTenant({ id, name: id });
        await directory.activateTenant(id);
        const sub = await directory.startSubscription({ tenantId: id, planId: 'pro', status: 'ACTIVE' });
        if (id === 'hooli') await directory.transitionSubscription(sub.id, 'PAST_DUE');
      }
      await directory.suspendTenant('umbrella');
    },
  );
  return store;
}

type Decorator = MethodDecorator | ParameterDecorator;
interface RouteDef {
  handler: (...args: never[]) => unknown;
  decorators: MethodDecorator[];
  params?: ParameterDecorator[];
}

/** A controller class built without decorator syntax (the repository's type check runs without experimentalDecorators). */
export function controller(prefix: string, routes: Record<string, RouteDef>): Type<unknown> {
  const C = class {};
  Object.defineProperty(C, 'name', { value: `${prefix.replace(/\W/g, '_')}Controller` });
  for (const [name, def] of Object.entries(routes)) {
    Object.defineProperty(C.prototype, name, { value: def.handler, writable: true, configurable: true });
    (def.params ?? []).forEach((p, i) => {
      (p as (t: object, k: string, i: number) => void)(C.prototype, name, i);
    });
    const desc = Object.getOwnPropertyDescriptor(C.prototype, name) as PropertyDescriptor;
    const result = Reflect.decorate(
      def.decorators as Decorator[] as MethodDecorator[],
      C.prototype,
      name,
      desc,
    ) as PropertyDescriptor;
    Object.defineProperty(C.prototype, name, result ?? desc);
  }
  Reflect.decorate([Controller(prefix) as ClassDecorator], C);
  return C;
}

const tick = () => new Promise((r) => setTimeout(r, Math.random() * 4));

export const Ops = controller('ops', {
  whoami: {
    decorators: [Get('whoami')],
    params: [CurrentTenant(), CurrentActor()],
    handler: (async (tenant: string, actor: { id: string }) => {
      await tick();
      const ctx = requireTenant();
      await new Promise((r) => setImmediate(r));
      return { tenantId: requireTenant().tenantId, param: tenant, actor: actor.id, requestId: ctx.requestId };
    }) as never,
  },
  create: {
    decorators: [Post('items'), Audited({ resource: 'item' })],
    params: [Body()],
    handler: ((body: unknown) => {
      const item = parseInput(
        z.object({ name: z.string().min(1), qty: z.number().int().positive() }),
        body,
        'item',
      );
      return { tenantId: requireTenant().tenantId, name: item.name };
    }) as never,
  },
  update: {
    decorators: [Put('items/:id'), Audited({ resource: 'item' })],
    params: [Param('id')],
    handler: ((id: string) => ({ id })) as never,
  },
  payout: {
    decorators: [Post('payouts/:id'), HttpCode(201), Audited({ resource: 'payout', failClosed: true })],
    params: [Param('id')],
    handler: ((id: string) => ({ paid: id, secret: 'payout-body' })) as never,
  },
  crash: {
    decorators: [Get('crash')],
    handler: (() => {
      throw new Error(
        'duplicate key value violates unique constraint "users_email_key"; SELECT * FROM users',
      );
    }) as never,
  },
});

export const BackOffice = controller('back-office', {
  settings: { decorators: [Get('settings')], handler: (() => ({ ok: true })) as never },
  remove: {
    decorators: [Delete('users/:id'), HttpCode(204), Roles('TENANT_ADMIN')],
    handler: (() => undefined) as never,
  },
});

export const SysMgt = controller('sys-mgt', {
  tenants: { decorators: [Get('tenants')], handler: (() => ({ ok: true })) as never },
});

export const Open = controller('public', {
  ping: { decorators: [Get('ping'), Public()], handler: (() => ({ pong: true })) as never },
});

export type Platform = 'express' | 'fastify';

export interface NestTestApp {
  app: INestApplication;
  audit: MemoryAuditPort;
  close: () => Promise<void>;
}

export async function buildNestApp(
  platform: Platform,
  over: Partial<TenancyModuleOptions> & { auditPort?: AuditPort } = {},
  extra: { imports?: Array<Type<unknown> | DynamicModule>; controllers?: Type<unknown>[] } = {},
): Promise<NestTestApp> {
  const audit = new MemoryAuditPort();
  const store = await seedTenants();
  const AppModule = class {};
  Reflect.decorate(
    [
      Module({
        imports: [
          TenancyModule.forRoot({
            auth: AUTH,
            audit: over.auditPort ?? audit,
            gatekeeper: createGatekeeper({ config: directConfigSource(store) }),
            ...over,
          }),
          ...(extra.imports ?? []),
        ],
        controllers: [Ops, BackOffice, SysMgt, Open, ...(extra.controllers ?? [])],
      }) as ClassDecorator,
    ],
    AppModule,
  );
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger: false });
  await app.init();
  if (platform === 'fastify')
    await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  return { app, audit, close: () => app.close() };
}

export { histogramCounts, installOpenTelemetry, type OpenTelemetrySdk } from '@tenantry/testkit/otel';
