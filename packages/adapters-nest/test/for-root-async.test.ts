// forRootAsync of the approvals, health, metrics, throttler and sign-in lockout modules: options from a
// factory that injects a config provider (useFactory + inject), validated when the app starts.
import 'reflect-metadata';
import { Global, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createApprovalEngine } from '@tenantry/approvals';
import { MemoryApprovalStore } from '@tenantry/approvals/memory';
import { MemoryAuditPort, isTenantryError } from '@tenantry/core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TenancyApprovalsModule,
  TenancyHealthModule,
  TenancyMetricsModule,
  TenancyModule,
  TenancySignInLockoutModule,
} from '../src/index.js';
import { TenancyThrottlerModule } from '../src/throttler.js';
import { AUTH, type NestTestApp, type Platform, bearer, buildNestApp, mint } from './helpers.js';

const SCRAPE = 'scrape-token-of-at-least-32-characters!!';

/** What a host's ConfigService would hold. */
class AppConfig {
  readonly metricsToken = SCRAPE;
  readonly perTenant = 3;
  readonly engine = createApprovalEngine({ store: new MemoryApprovalStore(), audit: new MemoryAuditPort() });
  readonly stores = { custom: { config: async () => 'up' } };
  readiness = 0;
}
const ConfigModule = class {};
Reflect.decorate(
  [Global() as ClassDecorator, Module({ providers: [AppConfig], exports: [AppConfig] }) as ClassDecorator],
  ConfigModule,
);

describe.each(['express', 'fastify'] as Platform[])(
  'forRootAsync with an injected config on %s',
  (platform) => {
    let t: NestTestApp;
    const server = () => t.app.getHttpServer();
    beforeAll(async () => {
      t = await buildNestApp(
        platform,
        {},
        {
          imports: [
            ConfigModule as Type<unknown>,
            TenancyThrottlerModule.forRootAsync({
              inject: [AppConfig],
              useFactory: (c: AppConfig) => ({
                perTenant: { limit: c.perTenant, ttlMs: 60_000 },
                prefix: `fra:${platform}:${process.pid}:`,
              }),
            }),
            TenancyHealthModule.forRootAsync({
              path: '/probes',
              inject: [AppConfig],
              useFactory: (c: AppConfig) => ({
                readiness: {
                  custom: {
                    config: async () => {
                      c.readiness++;
                    },
                  },
                },
              }),
            }),
            TenancyMetricsModule.forRootAsync({
              path: '/scrape',
              inject: [AppConfig],
              useFactory: (c: AppConfig) => ({
                source: { collect: async () => 'up 1\n' },
                token: c.metricsToken,
              }),
            }),
            TenancyApprovalsModule.forRootAsync({
              basePath: '/ops/asks',
              inject: [AppConfig],
              useFactory: (c: AppConfig) => ({ engine: c.engine }),
            }),
            TenancySignInLockoutModule.forRootAsync({
              inject: [AppConfig],
              useFactory: () => ({ maxFailures: 2 }),
            }),
          ],
        },
      );
    });
    afterAll(() => t?.close());

    it('serves the health probes under the configured path, with the factory’s checks', async () => {
      const config = t.app.get(AppConfig);
      const live = await request(server()).get('/probes/live');
      expect([live.status, live.body]).toEqual([200, { status: 'ok' }]);
      const before = config.readiness;
      const ready = await request(server()).get('/probes/ready');
      expect([ready.status, ready.body.checks]).toEqual([200, { config: 'up' }]);
      expect(config.readiness).toBe(before + 1);
      expect((await request(server()).get('/health/live')).status).toBe(404);
    });

    it('protects the metrics endpoint with the token from the config', async () => {
      expect((await request(server()).get('/scrape')).body.code).toBe('HTTP_TOKEN_MISSING');
      const ok = await request(server()).get('/scrape').set('authorization', `Bearer ${SCRAPE}`);
      expect([ok.status, ok.text]).toEqual([200, 'up 1\n']);
    });

    it('serves the approval routes of the configured engine under basePath', async () => {
      const inbox = await request(server())
        .get('/ops/asks/inbox')
        .set(bearer(await mint({ tenantId: 'acme', roles: ['MANAGER'] })));
      expect(inbox.status).toBe(200);
      expect(Array.isArray(inbox.body.items)).toBe(true);
    });

    it('limits each tenant at the configured rate', async () => {
      const statuses: number[] = [];
      const token = await mint({ tenantId: 'globex' });
      for (let i = 0; i < 4; i++)
        statuses.push((await request(server()).get('/ops/whoami').set(bearer(token))).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    });
  },
);

describe('forRootAsync validates the factory’s options when the app starts', () => {
  const start = async (imports: unknown[]) => {
    const App = class {};
    Reflect.decorate(
      [
        Module({
          imports: [
            TenancyModule.forRoot({ auth: AUTH, audit: new MemoryAuditPort() }),
            ...(imports as Type<unknown>[]),
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
    [
      'throttler',
      TenancyThrottlerModule.forRootAsync({ useFactory: () => ({ perIp: { limit: 0, ttlMs: 1 } }) }),
    ],
    ['health', TenancyHealthModule.forRootAsync({ useFactory: () => ({ readiness: 'db' as never }) })],
    ['metrics', TenancyMetricsModule.forRootAsync({ useFactory: () => ({ source: {} as never }) })],
    ['approvals', TenancyApprovalsModule.forRootAsync({ useFactory: () => ({ engine: {} as never }) })],
    ['lockout', TenancySignInLockoutModule.forRootAsync({ useFactory: () => ({ maxFailures: -1 }) })],
  ])('%s: VALIDATION_FAILED', async (_name, mod) => {
    expect(await start([mod])).toBe('VALIDATION_FAILED');
  });

  it('refuses a malformed route path at declaration', () => {
    let code: string | undefined;
    try {
      TenancyHealthModule.forRootAsync({ path: 'no-slash', useFactory: () => ({}) });
    } catch (e) {
      code = isTenantryError(e) ? e.code : 'untyped';
    }
    expect(code).toBe('VALIDATION_FAILED');
  });
});
