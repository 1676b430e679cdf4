import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
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
    this.#helmet =
      option === false
        ? undefined
        : (helmet(option === true || option === undefined ? {} : option) as Handler);
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
