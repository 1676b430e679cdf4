// A Nest test server process (argv: <platform> <redisUrl> <prefix>): the same app as its siblings, sharing
// one Redis for TenancyThrottlerModule's limits and TenancySignInLockoutModule's lockout.
// Prints {"port":N} once listening; closes on SIGTERM.
import 'reflect-metadata';
import { Body, HttpCode, HttpException, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { noopAuditPort } from '@tenantry/core';
import { Redis } from 'ioredis';
import { Public, SignInLockout, TenancyModule, TenancySignInLockoutModule } from '../../src/index.js';
import { TenancyThrottlerModule } from '../../src/throttler.js';
import { AUTH, Ops, controller } from '../helpers.js';

const [platform = 'express', redisUrl = 'redis://127.0.0.1:6379', prefix = 'tk:'] = process.argv.slice(2);
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });

const Auth = controller('auth', {
  signIn: {
    decorators: [
      Post('sign-in'),
      HttpCode(200),
      Public(),
      SignInLockout({ account: (req) => req.body?.email }),
    ],
    params: [Body()],
    handler: ((body: { password?: string }) => {
      if (body?.password !== 'right') throw new HttpException('wrong password', 401);
      return { ok: true, pid: process.pid };
    }) as never,
  },
});

const AppModule = class {};
Reflect.decorate(
  [
    Module({
      imports: [
        TenancyModule.forRoot({ auth: AUTH, audit: noopAuditPort }),
        TenancyThrottlerModule.forRoot({
          redis,
          perIp: { limit: 10, ttlMs: 60_000 },
          perTenant: { limit: 6, ttlMs: 60_000 },
          prefix: `${prefix}rl:`,
        }),
        TenancySignInLockoutModule.forRoot({ redis, maxFailures: 3, prefix: `${prefix}lock:` }),
      ],
      controllers: [Ops, Auth],
    }) as ClassDecorator,
  ],
  AppModule,
);

async function main(): Promise<void> {
  const adapter = platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  process.stdout.write(`${JSON.stringify({ port: address.port, pid: process.pid })}\n`);
  process.once('SIGTERM', () => {
    void app.close().then(async () => {
      await redis.quit();
      process.exit(0);
    });
  });
}
void main();
