import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { type HeaderMiddleware, type HeaderTarget, recordStaticHeaders } from '@tenantry/http';
import helmet from 'helmet';
import { TenancyService } from './tenancy.service.js';
import { checkInjected } from './validation.js';

type Handler = (req: unknown, res: unknown, next: (error?: unknown) => void) => void;

/**
 * Helmet's headers on every answer (CSP, HSTS, `X-Content-Type-Options`, frame and referrer policies;
 * `X-Powered-By` removed), on the Express and Fastify platforms. Applied by `TenancyModule` unless its
 * `helmet` option is `false`; an object is passed to helmet as its options.
 */
export class SecurityHeadersMiddleware implements NestMiddleware {
  readonly #helmet: Handler | undefined;
  constructor(tenancy: TenancyService) {
    checkInjected('SecurityHeadersMiddleware arguments', { tenancy });
    const option = (tenancy.options as Partial<TenancyService['options']> | undefined)?.helmet;
    if (option === false) {
      this.#helmet = undefined;
      return;
    }
    const helmetOptions = option === true || option === undefined ? {} : option;
    const handler = helmet(helmetOptions) as Handler;
    // Static options give the same headers on every answer: record them once and replay them (see
    // recordStaticHeaders); per-request options (CSP nonce functions) keep helmet per request.
    const headers = recordStaticHeaders(handler as HeaderMiddleware, helmetOptions);
    this.#helmet = headers
      ? (_req, res, next) => {
          headers.apply(res as HeaderTarget);
          next();
        }
      : handler;
  }
  use(req: unknown, res: unknown, next: (error?: unknown) => void): void {
    if (!this.#helmet) {
      next();
      return;
    }
    this.#helmet(req, res, next);
  }
}
Injectable()(SecurityHeadersMiddleware);
Inject(TenancyService)(SecurityHeadersMiddleware, undefined, 0);
