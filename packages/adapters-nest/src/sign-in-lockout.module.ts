import { ConfigurableModuleBuilder, type DynamicModule, Module } from '@nestjs/common';
import { type SignInLockoutSettings, createSignInLockout } from '@tenantry/http';
import { SIGN_IN_LOCKOUT, SignInLockoutInterceptor } from './sign-in-lockout.interceptor.js';

/** Options of {@link TenancySignInLockoutModule}: `redis` (an ioredis client), `maxFailures` (5), `windowMs` (15 min), `prefix`. */
export type TenancySignInLockoutModuleOptions = SignInLockoutSettings;

const what = 'TenancySignInLockoutModule options';
const built = new ConfigurableModuleBuilder<TenancySignInLockoutModuleOptions>()
  .setClassMethodName('forRoot')
  .build();

/** The injection token of the module options (for `forRootAsync`). */
export const SIGN_IN_LOCKOUT_OPTIONS = built.MODULE_OPTIONS_TOKEN;

/**
 * The counters behind `@SignInLockout()` (global; import it once). With `redis` (an ioredis `Redis` or
 * `Cluster`) the lockout holds across every process of the app. `forRoot` validates the options at once,
 * `forRootAsync` when the app starts.
 * @throws `VALIDATION_FAILED` for malformed options
 * @example
 * imports: [TenancyModule.forRoot({ ... }), TenancySignInLockoutModule.forRoot({ redis, maxFailures: 5 })]
 * TenancySignInLockoutModule.forRootAsync({ inject: [ConfigService], useFactory: (c: ConfigService) => ({ redis: c.redis }) })
 */
export class TenancySignInLockoutModule extends built.ConfigurableModuleClass {
  static override forRoot(options: TenancySignInLockoutModuleOptions): DynamicModule {
    createSignInLockout(options, what);
    return {
      ...built.ConfigurableModuleClass.forRoot.call(TenancySignInLockoutModule, options),
      global: true,
    };
  }
  static override forRootAsync(options: typeof built.ASYNC_OPTIONS_TYPE): DynamicModule {
    return {
      ...built.ConfigurableModuleClass.forRootAsync.call(TenancySignInLockoutModule, options),
      global: true,
    };
  }
}

Module({
  providers: [
    {
      provide: SIGN_IN_LOCKOUT,
      useFactory: (o: TenancySignInLockoutModuleOptions) => createSignInLockout(o, what),
      inject: [SIGN_IN_LOCKOUT_OPTIONS],
    },
    SignInLockoutInterceptor,
  ],
  exports: [SIGN_IN_LOCKOUT, SignInLockoutInterceptor],
})(TenancySignInLockoutModule);
