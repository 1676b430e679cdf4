import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TenantryError } from '@tenantry/core';
import { HttpTenancyError } from './errors.js';
import type { TokenVerifier } from './token-verifier.js';
import { invalid, isObject } from './validation.js';

/** Where the Prometheus text comes from: the host's OpenTelemetry SDK owns the metrics. */
export type MetricsSource =
  /** `@opentelemetry/exporter-prometheus`'s `PrometheusExporter` built with `preventServerStart: true`. */
  | { getMetricsRequestHandler(req: IncomingMessage, res: ServerResponse): void }
  /** Any function answering the Prometheus text exposition format (e.g. prom-client's `register.metrics()`). */
  | { collect(): Promise<string> | string };

/** Options of {@link createMetricsEndpoint}. */
export interface MetricsEndpointOptions {
  source: MetricsSource;
  /**
   * A scrape token: requests must send `Authorization: Bearer <token>` (compared in constant time). At
   * least 32 characters.
   */
  token?: string;
  /** Or platform staff: a JWT verified by `verifier` whose actor holds one of `roles` (and no tenant). */
  staff?: { verifier: TokenVerifier; roles: string[] };
  /**
   * Serve without protection. Refused when `NODE_ENV` is `production`.
   * @default false
   */
  allowUnprotected?: boolean;
}

/** A protected metrics endpoint, framework-agnostic: adapters call {@link MetricsEndpoint.handle}. */
export interface MetricsEndpoint {
  /**
   * Check the caller only.
   * @throws `HTTP_TOKEN_MISSING` (401), `HTTP_TOKEN_INVALID` (401), `PERMISSION_DENIED` (403)
   */
  authorize(req: IncomingMessage): Promise<void>;
  /** Answer the scrape on the raw Node response, without checking the caller. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /**
   * Check the caller, then answer the scrape on the raw Node response.
   * @throws `HTTP_TOKEN_MISSING` (401), `HTTP_TOKEN_INVALID` (401), `PERMISSION_DENIED` (403) — the
   * adapter answers them as problem+json
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * A Prometheus metrics endpoint protected by a scrape token or the platform-staff role.
 * @throws `VALIDATION_FAILED` for malformed options, or when no protection is configured in production
 * (or without `allowUnprotected`)
 * @example
 * const exporter = new PrometheusExporter({ preventServerStart: true }); // the host's SDK
 * const endpoint = createMetricsEndpoint({ source: exporter, token: process.env.METRICS_TOKEN });
 */
export function createMetricsEndpoint(options: MetricsEndpointOptions): MetricsEndpoint {
  const what = 'metrics endpoint options';
  if (!isObject(options)) invalid(what, [], 'must be an object');
  const source = options.source as unknown;
  if (
    !isObject(source) ||
    (typeof source.getMetricsRequestHandler !== 'function' && typeof source.collect !== 'function')
  ) {
    invalid(what, ['source'], 'must have getMetricsRequestHandler() or collect()');
  }
  const { token, staff } = options;
  if (token !== undefined && (typeof token !== 'string' || token.length < 32 || token.length > 1024)) {
    invalid(what, ['token'], 'must be a string of 32 to 1024 characters');
  }
  if (staff !== undefined) {
    if (!isObject(staff) || !isObject(staff.verifier) || typeof staff.verifier.verify !== 'function') {
      invalid(what, ['staff', 'verifier'], 'must be a TokenVerifier');
    }
    if (
      !Array.isArray(staff.roles) ||
      staff.roles.length === 0 ||
      !staff.roles.every((r) => typeof r === 'string')
    ) {
      invalid(what, ['staff', 'roles'], 'must be a non-empty array of role names');
    }
  }
  if (options.allowUnprotected !== undefined && typeof options.allowUnprotected !== 'boolean') {
    invalid(what, ['allowUnprotected'], 'must be a boolean');
  }
  const unprotected = token === undefined && staff === undefined;
  if (unprotected && (options.allowUnprotected !== true || process.env.NODE_ENV === 'production')) {
    invalid(
      what,
      ['token'],
      'a token or staff roles are required (allowUnprotected only outside production)',
    );
  }
  const expected = token === undefined ? undefined : digest(token);
  const staffRoles = staff ? new Set(staff.roles) : undefined;

  const authorize = async (req: IncomingMessage): Promise<void> => {
    if (unprotected) return;
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
    if (!m) throw new HttpTenancyError('HTTP_TOKEN_MISSING', 'Authentication is required');
    const presented = m[1] as string;
    if (expected && timingSafeEqual(digest(presented), expected)) return;
    if (staff && staffRoles) {
      // A JWT: verified, then platform staff only (no tenant, one of the roles).
      if (presented.split('.').length === 3) {
        const identity = await staff.verifier.verify(presented);
        if (identity.tenantId === undefined && identity.actor.roles.some((r) => staffRoles.has(r))) return;
        throw new TenantryError('PERMISSION_DENIED', 'Metrics are for platform staff');
      }
    }
    throw new HttpTenancyError('HTTP_TOKEN_INVALID', 'The bearer token was refused');
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const s = source as MetricsSource;
    if ('getMetricsRequestHandler' in s) {
      s.getMetricsRequestHandler(req, res);
      return;
    }
    const text = await s.collect();
    res.statusCode = 200;
    res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.end(text);
  };
  return {
    authorize,
    serve,
    async handle(req, res) {
      await authorize(req);
      await serve(req, res);
    },
  };
}
