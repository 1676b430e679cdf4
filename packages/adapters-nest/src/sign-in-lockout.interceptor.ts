import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  UseInterceptors,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ValidationError } from '@tenantry/core';
import { type SignInLockout as Lockout, clientIpKey, lockoutKey } from '@tenantry/http';
import { type Observable, from, mergeMap } from 'rxjs';

/** @internal Metadata key of `@SignInLockout()`. */
export const SIGN_IN_LOCKOUT_KEY = 'tenantry:signInLockout';
/** Injection token of the lockout counters (`SignInLockout` of `@tenantry/http`), provided by `TenancySignInLockoutModule`. */
export const SIGN_IN_LOCKOUT = Symbol.for('tenantry.nest.signInLockout');

/** The sign-in request as `@SignInLockout()` hands it to `account`, the same on Express and Fastify. */
export interface SignInRequest {
  /** The parsed body (`undefined` without one). */
  readonly body?: Readonly<Record<string, unknown>>;
  /** The client address, as the platform resolved it (its trust-proxy setting applies). */
  readonly ip?: string;
}

/** Options of `@SignInLockout()`. */
export interface SignInLockoutSpec {
  /** The account the attempt is for (e.g. `req.body?.email`); attempts without a non-empty string are keyed by IP. */
  account(req: SignInRequest): unknown;
}

/**
 * Account lockout on a sign-in handler: counts failed answers (status ≥ 400) per account, with the
 * counters of `TenancySignInLockoutModule` (Redis when configured, so every process shares them), and
 * refuses every attempt, even with the right password, with `HTTP_ACCOUNT_LOCKED` (423, problem+json,
 * `Retry-After`) once more than `maxFailures` failed in the window. The same logic as `@tenantry/express`'s
 * `signInLockout` (`createSignInLockout` of `@tenantry/http`). Needs `TenancySignInLockoutModule`.
 * @throws `VALIDATION_FAILED` when `spec.account` is not a function
 * @example
 * // @Post('auth/sign-in') @Public() @SignInLockout({ account: (req) => req.body?.email }) signIn() {}
 */
export const SignInLockout = (spec: SignInLockoutSpec) => {
  if (typeof (spec as { account?: unknown } | null)?.account !== 'function') {
    throw new ValidationError('@SignInLockout() spec', [
      { path: ['account'], message: 'must be a function' },
    ]);
  }
  return applyDecorators(SetMetadata(SIGN_IN_LOCKOUT_KEY, spec), UseInterceptors(SignInLockoutInterceptor));
};

/** Added by `@SignInLockout()`: counts the attempt before the handler and takes it back when the answer succeeds. */
export class SignInLockoutInterceptor implements NestInterceptor {
  constructor(
    private readonly lockout: Lockout,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<SignInLockoutSpec | undefined>(SIGN_IN_LOCKOUT_KEY, ctx.getHandler());
    if (!spec || ctx.getType() !== 'http') return next.handle();
    const http = ctx.switchToHttp();
    const req = http.getRequest<SignInRequest>();
    // Fastify's reply wraps the Node response; Express's response is one. 'finish' is when the status is final.
    const res = http.getResponse<{ raw?: NodeJS.EventEmitter & { statusCode: number } }>();
    const raw = (res.raw ?? res) as NodeJS.EventEmitter & { statusCode: number };
    const ip = typeof req.ip === 'string' ? clientIpKey(req.ip) : 'unknown';
    return from(this.lockout.attempt(lockoutKey(spec.account(req), ip))).pipe(
      mergeMap((attempt) => {
        // An aborted request never finishes and stays counted as a failure.
        raw.once('finish', () => {
          attempt.settle(raw.statusCode).catch(() => undefined);
        });
        return next.handle();
      }),
    );
  }
}

Injectable()(SignInLockoutInterceptor);
Inject(SIGN_IN_LOCKOUT)(SignInLockoutInterceptor, undefined, 0);
Inject(Reflector)(SignInLockoutInterceptor, undefined, 1);
