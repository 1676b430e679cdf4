import type { Provider } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { parseInput } from '@tenantry/core';
import {
  BodyLimitSchema,
  CorsSettingsSchema,
  DEFAULT_BODY_LIMIT,
  HttpTenancyError,
  bodyLimitBytes,
  corsOptionsOf,
} from '@tenantry/http';
import { z } from 'zod';
import { headerOf, initState, tenantryOf, timeRequest } from './request-state.js';
import { SecurityHeadersMiddleware } from './security-headers.middleware.js';
import { TenancyService } from './tenancy.service.js';

/** CORS and body limit of `TenancyModule`, validated with zod (the same schemas and defaults as `@tenantry/express`). */
export const NestHttpSettingsSchema = z.object({
  /** CORS: off (no CORS headers, not even on a preflight) unless origins are listed. */
  cors: CorsSettingsSchema.optional(),
  /** Largest request body, on both platforms; `false` leaves the platform's own limit. @default '100kb' */
  bodyLimit: z.union([BodyLimitSchema, z.literal(false)]).default(DEFAULT_BODY_LIMIT),
});

type Next = (error?: unknown) => void;
interface HeaderResponse {
  setHeader(name: string, value: string): unknown;
  removeHeader(name: string): unknown;
}
interface FastifyLike {
  addHook(name: 'onRoute', hook: (route: { bodyLimit?: number }) => void): unknown;
}
interface FastifyAdapterLike {
  setOnRequestHook(hook: (request: object, reply: { raw: HeaderResponse }, done: Next) => void): void;
}
interface ExpressLike {
  disable(setting: string): unknown;
}

interface FastifyFrameworkOptions {
  frameworkErrors?: (
    error: unknown,
    request: object,
    reply: { raw: HeaderResponse & { statusCode: number; end(body: string): unknown } },
  ) => void;
}

// The options object a Fastify instance reads its `frameworkErrors` from (under Fastify's own
// `fastify.options` symbol); `undefined` when this Fastify does not keep one there.
function fastifyOptionsOf(instance: unknown): FastifyFrameworkOptions | undefined {
  if (typeof instance !== 'object' || instance === null) return undefined;
  const key = Object.getOwnPropertySymbols(instance).find((k) => k.description === 'fastify.options');
  const options = key === undefined ? undefined : (instance as Record<symbol, unknown>)[key];
  return typeof options === 'object' && options !== null ? (options as FastifyFrameworkOptions) : undefined;
}

/** @internal Token of the provider that configures the platform when the app is created. */
export const HTTP_PLATFORM = Symbol.for('tenantry.nest.httpPlatform');

/**
 * @internal Applied while the app is created, before Nest registers its body parsers and routes (the
 * only moment a module can still shape them). First, on every request, the request id (`x-request-id`)
 * and helmet's headers, so that answers given before any route runs (a body parser's 413 or 400, a
 * CORS preflight) carry them as every other answer does; `X-Powered-By` is off on Express. Then CORS
 * through the platform's own `enableCors` (`cors` on Express, `@fastify/cors` on Fastify), and the body
 * limit (Express: body-parser's, Fastify: per route).
 */
export const httpPlatformProvider: Provider = {
  provide: HTTP_PLATFORM,
  inject: [TenancyService, HttpAdapterHost, SecurityHeadersMiddleware],
  useFactory: (tenancy: TenancyService, host: HttpAdapterHost, headers: SecurityHeadersMiddleware) => {
    const { cors, bodyLimit } = parseInput(
      NestHttpSettingsSchema,
      { cors: tenancy.options.cors, bodyLimit: tenancy.options.bodyLimit },
      'TenancyModule options',
    );
    const adapter = host.httpAdapter;
    if (!adapter) return { cors: false };
    const http = tenancy.http;
    // One request id per request, drawn here; the context middleware, guard and filter reuse it. The
    // request is timed from here too (`http.server.request.duration`), so early answers are timed.
    const early = (req: object, res: HeaderResponse, next: Next) => {
      const state = tenantryOf(req) ?? initState(req, http.requestId(headerOf(req, 'x-request-id')));
      res.setHeader('x-request-id', state.requestId);
      timeRequest(http, req, res);
      headers.use(req, res, next);
    };
    if (adapter.getType() === 'fastify') {
      // Nest's request hook runs before the CORS hook and middie (a plain onRequest hook added here
      // would run after a preflight was answered). The state is keyed by the FastifyRequest, the one
      // guards and filters see. An app that sets its own hook later replaces this one.
      (adapter as unknown as FastifyAdapterLike).setOnRequestHook((request, reply, done) =>
        early(request, reply.raw, done),
      );
      // Fastify answers a URL it cannot decode (and a too long parameter) itself, before any hook,
      // with its own JSON (its error code, the path echoed, no security headers) unless the app gave
      // `frameworkErrors`. Its options object is read on each such answer, so one can be set here.
      const options = fastifyOptionsOf(adapter.getInstance());
      if (options && options.frameworkErrors === undefined) {
        options.frameworkErrors = (_error, request, reply) => {
          const res = reply.raw;
          early(request, res, () => {
            const state = tenantryOf(request);
            const p = http.problem(
              new HttpTenancyError('HTTP_BAD_REQUEST', 'The request URL is malformed'),
              state?.requestId,
            );
            res.statusCode = p.status;
            for (const [name, value] of Object.entries(p.headers)) res.setHeader(name, value);
            const body = JSON.stringify(p.body);
            res.setHeader('content-length', String(Buffer.byteLength(body)));
            res.end(body);
          });
        };
      }
    } else if (adapter.getType() === 'express') {
      (adapter.getInstance() as ExpressLike).disable('x-powered-by');
      adapter.use(early);
    }
    if (cors) adapter.enableCors(corsOptionsOf(cors));
    if (bodyLimit !== false) {
      if (adapter.getType() === 'fastify') {
        const limit = bodyLimitBytes(bodyLimit);
        // A route's own bodyLimit wins; every other route gets ours instead of Fastify's 1 MiB.
        (adapter.getInstance() as FastifyLike).addHook('onRoute', (route) => {
          route.bodyLimit ??= limit;
        });
      } else if (bodyLimit !== DEFAULT_BODY_LIMIT) {
        // Nest's own parsers already stop at 100kb; ours, registered first, make it skip them, so they
        // take Nest's options but the limit (urlencoded: extended, nested keys as Nest parses them).
        const express = adapter as unknown as {
          useBodyParser(
            type: string,
            rawBody: boolean,
            options: { limit: string | number; extended?: boolean },
          ): unknown;
        };
        express.useBodyParser('json', false, { limit: bodyLimit });
        express.useBodyParser('urlencoded', false, { limit: bodyLimit, extended: true });
      }
    }
    return { cors: cors !== undefined };
  },
};
