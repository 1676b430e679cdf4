import { ConfigurableModuleBuilder, Inject, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE, HttpAdapterHost } from '@nestjs/core';
import { httpPlatformProvider } from './http-platform.provider.js';
import { TenancyContextMiddleware, enterTenancyContext } from './tenancy-context.middleware.js';
import { SanitizeHtmlPipe } from './sanitize-html.pipe.js';
import { SecurityHeadersMiddleware } from './security-headers.middleware.js';
import { TenancyExceptionFilter } from './tenancy-exception.filter.js';
import { TenancyGuard } from './tenancy.guard.js';
import { FailClosedAuditInterceptor, TenancyInterceptor } from './tenancy.interceptor.js';
import { type TenancyModuleOptions, TenancyService } from './tenancy.service.js';

const built = new ConfigurableModuleBuilder<TenancyModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** The injection token of the module options (for `forRootAsync` factories that need it). */
export const TENANCY_MODULE_OPTIONS = built.MODULE_OPTIONS_TOKEN;

/**
 * Wires Tenantry into a Nest app (Express or Fastify platform) with a global guard (token → identity,
 * roles, segments, gatekeeper), the handler inside `runAsTenant` (Express: a middleware after the body
 * parsers; Fastify: a global interceptor) and a global problem+json exception filter. Every provider is a singleton: nothing is request-scoped.
 * Options are validated with zod when the module starts.
 * @example
 * TenancyModule.forRoot({ auth: { key: { jwksUrl }, issuer, audience: 'api' }, audit: auditLog.port, gatekeeper })
 * TenancyModule.forRootAsync({ inject: [ConfigService], useFactory: (c: ConfigService) => ({ ... }) })
 */
export class TenancyModule extends built.ConfigurableModuleClass implements NestModule {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly host: HttpAdapterHost,
  ) {
    super();
  }

  configure(): void {
    // Helmet's headers, the request id and the request's timer are applied earlier, by the platform
    // provider (before the body parsers and CORS), so early answers carry them too.
    // Nest calls this after registering its body parsers and before any module middleware or route:
    // on Express the context step goes here as a plain middleware (after the body, whose stream events
    // would leave the context; before every `consumer.apply()` middleware, which so runs inside it),
    // sparing each request Nest's middleware routing (a wildcard route match, a proxy, a WeakSet).
    // On Fastify the global interceptor enters the context (the body is read after middlewares).
    const adapter = this.host.httpAdapter;
    if (adapter?.getType() !== 'express') return;
    const http = this.tenancy.http;
    adapter.use((req: object, res: { setHeader(n: string, v: string): unknown }, next: () => void) =>
      enterTenancyContext(http, req, res, next),
    );
  }
}
Inject(TenancyService)(TenancyModule, undefined, 0);
Inject(HttpAdapterHost)(TenancyModule, undefined, 1);

Module({
  providers: [
    {
      provide: TenancyService,
      useFactory: (o: TenancyModuleOptions) => new TenancyService(o),
      inject: [TENANCY_MODULE_OPTIONS],
    },
    { provide: APP_GUARD, useClass: TenancyGuard },
    // Fastify only: on Express the context middleware enters the context, and a factory returning
    // nothing registers no global interceptor (Nest skips it), so requests skip that machinery.
    {
      provide: APP_INTERCEPTOR,
      useFactory: (tenancy: TenancyService, host: HttpAdapterHost) =>
        host.httpAdapter?.getType() === 'express' ? undefined : new TenancyInterceptor(tenancy),
      inject: [TenancyService, HttpAdapterHost],
    },
    TenancyContextMiddleware,
    SecurityHeadersMiddleware,
    FailClosedAuditInterceptor,
    httpPlatformProvider,
    // `@SanitizeHtml()` fields cleaned before validation pipes and handlers (a lookup for other bodies).
    { provide: APP_PIPE, useFactory: () => new SanitizeHtmlPipe() },
    { provide: APP_FILTER, useClass: TenancyExceptionFilter },
  ],
  exports: [TenancyService, FailClosedAuditInterceptor],
})(TenancyModule);
