import { randomBytes } from 'node:crypto';
import {
  type AccessPolicy,
  type Actor,
  type AuditPort,
  type Clock,
  type GateDecision,
  type Gatekeeper,
  GatekeeperError,
  type Logger,
  TelemetryAttributes,
  type TenantContextInput,
  ValidationError,
  currentTenantContext,
  noopLogger,
  parseInput,
  runAsTenant,
  systemClock,
  withSpan,
} from '@tenantry/core';
import { z } from 'zod';
import {
  DEFAULT_MASKED_KEYS,
  type RequestAuditInput,
  maskKeySet,
  requestAuditEvent,
} from './audit-record.js';
import { HttpTenancyError } from './errors.js';
import { type RequestTimer, countRefusal, startRequestTimer } from './http-metrics.js';
import { type ProblemResponse, toProblem } from './problem.js';
import {
  type NamedTenant,
  type RequestView,
  TenantHintsSchema,
  type UntrustedClientTenantResolver,
  assertNamedTenantsAgree,
  namedTenants,
} from './request-tenant.js';
import {
  DEFAULT_SEGMENT_PREFIXES,
  type SegmentMap,
  SegmentPrefixesSchema,
  createSegmentMap,
} from './segments.js';
import {
  type TokenVerifier,
  type TokenVerifierOptions,
  type VerifiedIdentity,
  createTokenVerifier,
} from './token-verifier.js';

/** The serialisable part of {@link HttpTenancyOptions}, validated with zod. */
export const HttpTenancySettingsSchema = z.object({
  /** Where clients may name a tenant (always checked against the token). */
  tenantHints: TenantHintsSchema.default({ header: 'x-tenant-id' }),
  /**
   * Path prefixes served without credentials (sign-in, webhooks with their own signature), matched
   * exactly, case and all: a path spelled differently (`/SIGN-IN`) is not public and needs a token,
   * never the other way round. @default []
   */
  publicPaths: z.array(z.string().startsWith('/')).default([]),
  /**
   * API segments as path prefix → segment name, matched without regard to ASCII case, with
   * percent-escapes of ASCII characters decoded and runs of slashes collapsed (`/OPS/x` and `/%6Fps/x`
   * are in `/ops`), so no spelling a router accepts skips the segment's roles.
   * @default DEFAULT_SEGMENT_PREFIXES
   */
  segments: SegmentPrefixesSchema.optional(),
  /**
   * Paths a tenant admin may still use while the subscription is unpaid (`settleOnly`), e.g.
   * `['/back-office/billing']`, matched exactly, case and all (another spelling is refused). When
   * unset, a tenant admin passes everywhere (flagged as settle-only).
   */
  settleOnlyPaths: z.array(z.string().startsWith('/')).optional(),
  /** Audit of mutating requests. */
  auditBody: z
    .object({
      /** Put the (masked) request body in the audit event. @default true */
      include: z.boolean().default(true),
      /** Dotted paths to mask (`card.number`, `items.*.iban`). */
      maskPaths: z.array(z.string().min(1)).default([]),
      /**
       * Key names masked at any depth, ignoring case, `-`, `_` and white space (`apiKey` also masks
       * `api_key`). @default DEFAULT_MASKED_KEYS (password, token, secret, iban, …)
       */
      maskKeys: z.array(z.string().min(1)).optional(),
    })
    .default({ include: true, maskPaths: [] }),
  /** Prefix of problem `type` URIs (the code is appended). @default 'about:blank' */
  problemTypeBase: z.url().optional(),
  /** The `http.server.request.duration` histogram (recorded only when the host installs an OpenTelemetry SDK). */
  requestMetrics: z
    .object({
      /**
       * Record it. Turn it off when the host's HTTP instrumentation (`@opentelemetry/instrumentation-http`)
       * records the same metric already. @default true
       */
      enabled: z.boolean().default(true),
      /**
       * Add the tenant id (`tenantry.tenant_id`) as an attribute. Every tenant then makes its own series
       * (times routes × methods × statuses × buckets): only for a small, known set of tenants.
       * @default false
       */
      tenantAttribute: z.boolean().default(false),
    })
    .default({ enabled: true, tenantAttribute: false }),
});

/** Options of {@link createHttpTenancy}. */
export interface HttpTenancyOptions extends z.input<typeof HttpTenancySettingsSchema> {
  /** How bearer tokens are verified (or a verifier built with `createTokenVerifier`). */
  auth: TokenVerifierOptions | TokenVerifier;
  /** Where audit events of mutating requests go. Pass core's `noopAuditPort` to opt out explicitly. */
  audit: AuditPort;
  /** Decides whether the actor may use the tenant now (suspended, unpaid, terms, maintenance). */
  gatekeeper?: Gatekeeper;
  /** Role → permission policy; its segments' role sets guard the API segments. */
  policy?: AccessPolicy;
  /**
   * UNSAFE unless something in front guarantees the tenant: lets a request without a tenant-bearing
   * token act for the tenant the client names. See {@link UntrustedClientTenantResolver}.
   */
  untrustedClientTenant?: UntrustedClientTenantResolver;
  logger?: Logger;
  clock?: Clock;
  /** Called with every unexpected (500) error, for the host's error reporting. Never sent to the client. */
  onUnexpectedError?: (error: unknown, requestId: string | undefined) => void;
}

/** Who a request acts as, after verification. */
export interface RequestIdentity {
  /** The tenant, or `undefined` for platform staff whose token names none. */
  readonly tenantId: string | undefined;
  readonly actor: Actor;
  readonly impersonator: Actor | undefined;
  /** `true` when the tenant came from {@link UntrustedClientTenantResolver}. */
  readonly tenantFromClient: boolean;
}

/** What the gate decided for an admitted request. */
export interface AdmittedRequest {
  /** The tenant admin is let in only to settle an unpaid subscription. */
  readonly settleOnly: boolean;
}

/** The framework-agnostic core both adapters call, so Express and Nest can never disagree. */
export interface HttpTenancy {
  /** Whether `path` is served without credentials. */
  isPublic(path: string): boolean;
  /**
   * A request id: the client's `x-request-id` when it is short and plain, else a fresh one: a random
   * per-process prefix (96 bits, base64url) and a counter (`Xk3…q9-1b`), unique without asking the
   * CSPRNG on every request. It correlates logs; it is no secret and no capability.
   */
  requestId(incoming: string | undefined): string;
  /**
   * Verify the bearer token and check client-named tenants against it (invariant T2).
   * @throws `HTTP_TOKEN_MISSING`, `HTTP_TOKEN_INVALID`, `HTTP_TOKEN_EXPIRED`, `HTTP_JWKS_UNAVAILABLE`, `TENANT_CONTEXT_CONFLICT`
   */
  authenticate(req: RequestView): Promise<RequestIdentity>;
  /**
   * {@link HttpTenancy.authenticate} answered at once, without a promise, when it needs no I/O: the
   * token's verification is cached and unexpired (the verifier's `peek`), or there is no token and the
   * trusted resolver names the tenant. `undefined` when the token must be verified: then call
   * `authenticate`. The same checks run (client-named tenants against the token, T2) and fail with the
   * same errors, thrown.
   * @throws `HTTP_TOKEN_MISSING`, `HTTP_TOKEN_INVALID`, `TENANT_CONTEXT_CONFLICT`, `TENANT_CONTEXT_MISSING`
   */
  authenticateNow(req: RequestView): RequestIdentity | undefined;
  /** The context to enter with core's `runAsTenant`, or `undefined` for an identity without tenant. */
  contextOf(identity: RequestIdentity, requestId: string): TenantContextInput | undefined;
  /**
   * Segment guard, then gatekeeper (reads pass maintenance, writes do not), run in the identity's
   * tenant context (entered here when the caller has not entered it yet).
   * @throws `PERMISSION_DENIED` outside the segment's roles; a gatekeeper code (`TENANT_SUSPENDED`, `SUBSCRIPTION_PAST_DUE`, …)
   */
  admit(identity: RequestIdentity, method: string, path: string): Promise<AdmittedRequest>;
  /**
   * {@link HttpTenancy.admit} answered at once, with no promise: when no gatekeeper has to be asked
   * (none configured, or an identity without tenant), or when it decides from memory (`checkNow`: a
   * started config cache holding the tenant, no OpenTelemetry SDK). Enters the identity's tenant
   * context for the check unless it is current. `undefined` when the gatekeeper must read: then call `admit`.
   * @throws `PERMISSION_DENIED` outside the segment's roles; a gatekeeper code, as `admit` rejects with
   */
  admitNow(identity: RequestIdentity, method: string, path: string): AdmittedRequest | undefined;
  /** The segment of a path (`operations` for `/ops/...`), if any. */
  readonly segments: SegmentMap;
  /** Build and write the audit event of a finished mutating request. Rejects when the port rejects. */
  recordRequest(input: Omit<RequestAuditInput, 'maskKeys'>): Promise<void>;
  /** The problem+json answer for any error (logs unexpected ones with their code only). */
  problem(error: unknown, requestId: string | undefined): ProblemResponse;
  /**
   * Start timing a request for the `http.server.request.duration` histogram (seconds); the adapter calls
   * the returned function once, when the response finished or the connection closed. `undefined` (nothing
   * to time, nothing to call) when no OpenTelemetry SDK is installed or `requestMetrics.enabled` is `false`.
   */
  timeRequest(method: string): RequestTimer | undefined;
  readonly logger: Logger;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// Fresh request ids: 96 random bits drawn once per process (so two processes, or a restart, never
// collide) and a counter, instead of a UUIDv7 drawing random bytes on every request.
const REQUEST_ID_PREFIX = randomBytes(12).toString('base64url');
let requestCounter = 0;
const freshRequestId = (): string => `${REQUEST_ID_PREFIX}-${(++requestCounter).toString(36)}`;
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ANONYMOUS: Actor = Object.freeze({ id: 'anonymous', roles: [], kind: 'user' as const });
const NOT_SETTLE_ONLY: AdmittedRequest = Object.freeze({ settleOnly: false });
const SETTLE_ONLY: AdmittedRequest = Object.freeze({ settleOnly: true });

// Anything but a read method (including a method that is not a string) asks for write access: fails closed.
const accessOf = (method: unknown): 'read' | 'write' =>
  typeof method === 'string' && READ_METHODS.has(method.toUpperCase()) ? 'read' : 'write';

// The gatekeeper acts inside the tenant's context (T1): tenant and actor come from it. The adapters
// may admit before entering the context (Express, Nest on Fastify): then it is entered for the check.
const gateContextOf = (identity: RequestIdentity & { tenantId: string }): TenantContextInput =>
  identity.impersonator
    ? { tenantId: identity.tenantId, actor: identity.actor, impersonator: identity.impersonator }
    : { tenantId: identity.tenantId, actor: identity.actor };

function bearerToken(req: RequestView): string | undefined {
  const h = req.header('authorization');
  if (h === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m)
    throw new HttpTenancyError('HTTP_TOKEN_INVALID', 'The bearer token was refused', {
      details: { reason: 'scheme' },
    });
  return m[1];
}

const underPrefix = (path: string, prefix: string): boolean =>
  path === prefix ||
  (path.startsWith(prefix) && (prefix.endsWith('/') || path.charCodeAt(prefix.length) === 47));

/**
 * Build the shared HTTP layer: token → identity → context, segment and gatekeeper checks, request
 * audit events and problem+json answers. Options are validated once here.
 * @throws ValidationError `VALIDATION_FAILED` on malformed options
 * @example
 * const http = createHttpTenancy({ auth: { key: { secret }, issuer: 'idp', audience: 'api' }, audit });
 */
export function createHttpTenancy(options: HttpTenancyOptions): HttpTenancy {
  const settings = parseInput(HttpTenancySettingsSchema, options, 'HTTP tenancy options');
  const logger = options.logger ?? noopLogger;
  const clock = options.clock ?? systemClock;
  if (!options.audit || typeof options.audit.record !== 'function') {
    throw new ValidationError('HTTP tenancy options', [
      { path: ['audit'], message: 'an audit port is required (pass noopAuditPort to opt out explicitly)' },
    ]);
  }
  const verifier: TokenVerifier =
    typeof (options.auth as TokenVerifier).verify === 'function'
      ? (options.auth as TokenVerifier)
      : createTokenVerifier(options.auth as TokenVerifierOptions, clock);
  const segments = createSegmentMap(settings.segments ?? DEFAULT_SEGMENT_PREFIXES, options.policy);
  const resolver = options.untrustedClientTenant;
  if (resolver) {
    if (resolver.acknowledge !== 'the client chooses the tenant') {
      throw new ValidationError('HTTP tenancy options', [
        {
          path: ['untrustedClientTenant', 'acknowledge'],
          message: "must be 'the client chooses the tenant'",
        },
      ]);
    }
    logger.warn(
      { component: '@tenantry/http' },
      'untrustedClientTenant is on: requests without a tenant-bearing token act for the tenant the client names',
    );
  }
  // A request without a token: only the trusted resolver may name its tenant.
  const anonymousIdentity = (req: RequestView, named: readonly NamedTenant[]): RequestIdentity => {
    const tenantId = resolver?.resolve(req);
    if (tenantId === undefined)
      throw new HttpTenancyError('HTTP_TOKEN_MISSING', 'A bearer token is required');
    assertNamedTenantsAgree(tenantId, named);
    return { tenantId, actor: ANONYMOUS, impersonator: undefined, tenantFromClient: true };
  };
  // A verified token: its tenant, checked against every tenant the client named (T2).
  const identityOf = (
    verified: VerifiedIdentity,
    req: RequestView,
    named: readonly NamedTenant[],
  ): RequestIdentity => {
    if (verified.tenantId === undefined && resolver) {
      const tenantId = resolver.resolve(req);
      assertNamedTenantsAgree(tenantId, named);
      return {
        tenantId,
        actor: verified.actor,
        impersonator: verified.impersonator,
        tenantFromClient: true,
      };
    }
    assertNamedTenantsAgree(verified.tenantId, named);
    return {
      tenantId: verified.tenantId,
      actor: verified.actor,
      impersonator: verified.impersonator,
      tenantFromClient: false,
    };
  };
  const maskKeys = settings.auditBody.maskKeys
    ? maskKeySet(settings.auditBody.maskKeys)
    : DEFAULT_MASKED_KEYS;
  const audit = options.audit;
  /** The gatekeeper's decision as an admission: refusals thrown; settle-only callers kept to `settleOnlyPaths`. */
  const admitted = (decision: GateDecision, identity: RequestIdentity, path: string): AdmittedRequest => {
    if (!decision.allowed) {
      throw new GatekeeperError(decision.code, decision.message, { details: decision.details });
    }
    if (
      decision.settleOnly &&
      settings.settleOnlyPaths &&
      !settings.settleOnlyPaths.some((p) => underPrefix(path, p))
    ) {
      throw new GatekeeperError(
        'SUBSCRIPTION_PAST_DUE',
        'Only billing is open until the subscription is settled',
        {
          details: { tenantId: identity.tenantId },
        },
      );
    }
    return decision.settleOnly ? SETTLE_ONLY : NOT_SETTLE_ONLY;
  };

  return {
    logger,
    segments,
    isPublic: (path) => settings.publicPaths.some((p) => underPrefix(path, p)),
    requestId: (incoming) =>
      incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : freshRequestId(),

    authenticateNow(req) {
      const token = bearerToken(req);
      const named = namedTenants(req, settings.tenantHints);
      if (token === undefined) return anonymousIdentity(req, named);
      const verified = verifier.peek?.(token);
      return verified === undefined ? undefined : identityOf(verified, req, named);
    },

    async authenticate(req) {
      const token = bearerToken(req);
      const named = namedTenants(req, settings.tenantHints);
      if (token === undefined) return anonymousIdentity(req, named);
      return identityOf(await verifier.verify(token), req, named);
    },

    contextOf(identity, requestId) {
      if (identity.tenantId === undefined) return undefined;
      // One literal per request, no spread of a throwaway object.
      return identity.impersonator
        ? {
            tenantId: identity.tenantId,
            actor: identity.actor,
            impersonator: identity.impersonator,
            requestId,
          }
        : { tenantId: identity.tenantId, actor: identity.actor, requestId };
    },

    admitNow(identity, method, path) {
      const segment = segments.segmentOf(path);
      if (segment !== undefined) segments.assertActorIn(identity.actor, segment);
      const gate = options.gatekeeper;
      if (!gate || identity.tenantId === undefined) return NOT_SETTLE_ONLY;
      if (typeof gate.checkNow !== 'function') return undefined;
      const request = { access: accessOf(method) };
      const decision =
        currentTenantContext()?.tenantId === identity.tenantId
          ? gate.checkNow(request)
          : runAsTenant(gateContextOf(identity as RequestIdentity & { tenantId: string }), () =>
              (gate.checkNow as NonNullable<typeof gate.checkNow>)(request),
            );
      return decision === undefined ? undefined : admitted(decision, identity, path);
    },

    async admit(identity, method, path) {
      const segment = segments.segmentOf(path);
      if (segment !== undefined) segments.assertActorIn(identity.actor, segment);
      const gate = options.gatekeeper;
      if (!gate || identity.tenantId === undefined) return NOT_SETTLE_ONLY;
      // The gatekeeper acts inside the tenant's context (T1): tenant and actor come from it. The
      // adapters may call admit before entering the context (Express, Nest on Fastify), so enter it
      // here unless it is already the request's tenant.
      const check = () => gate.check({ access: accessOf(method) });
      const decision =
        currentTenantContext()?.tenantId === identity.tenantId
          ? await check()
          : await runAsTenant(gateContextOf(identity as RequestIdentity & { tenantId: string }), check);
      return admitted(decision, identity, path);
    },

    recordRequest(input) {
      const tenantId = (input as { tenantId?: unknown } | null)?.tenantId;
      const attrs = typeof tenantId === 'string' ? { [TelemetryAttributes.TENANT_ID]: tenantId } : {};
      // Inside the span's callback, which turns a throw into a rejection; a malformed input is refused
      // by requestAuditEvent's checks (a ValidationError), never by a TypeError from reading it here.
      return withSpan('http', 'audit.write', attrs, () => {
        if (typeof input !== 'object' || input === null) {
          return audit.record(requestAuditEvent(input, clock.now()));
        }
        // Each field copied by name, not spread: this runs once per mutating request, and a spread of the
        // input measured as the largest single cost of the request's audit record.
        const event: RequestAuditInput = {
          tenantId: input.tenantId,
          actor: input.actor,
          impersonator: input.impersonator,
          method: input.method,
          route: input.route,
          resource: input.resource,
          status: input.status,
          ip: input.ip,
          userAgent: input.userAgent,
          requestId: input.requestId,
          body: settings.auditBody.include ? input.body : undefined,
          // Per-route paths (a DTO's `@Pii()` fields) add to the configured ones.
          maskPaths:
            input.maskPaths === undefined
              ? settings.auditBody.maskPaths
              : Array.isArray(input.maskPaths)
                ? [...settings.auditBody.maskPaths, ...input.maskPaths]
                : input.maskPaths,
          maskKeys,
        };
        return audit.record(requestAuditEvent(event, clock.now()));
      });
    },

    timeRequest: (method) =>
      settings.requestMetrics.enabled
        ? startRequestTimer(method, settings.requestMetrics.tenantAttribute)
        : undefined,

    problem(error, requestId) {
      const p = toProblem(error, {
        ...(settings.problemTypeBase ? { typeBase: settings.problemTypeBase } : {}),
        ...(requestId !== undefined ? { requestId } : {}),
      });
      countRefusal(p.body.code, p.status);
      if (p.status >= 500) {
        const code = p.body.code;
        logger.error(
          { requestId, code, errorName: error instanceof Error ? error.name : typeof error },
          'request failed',
        );
        if (code === 'INTERNAL') options.onUnexpectedError?.(error, requestId);
      }
      return p;
    },
  };
}
