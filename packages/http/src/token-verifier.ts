import { type KeyObject, createPublicKey, createSecretKey } from 'node:crypto';
import {
  type Actor,
  type Clock,
  TelemetryAttributes,
  TenantIdSchema,
  ValidationError,
  parseActor,
  parseInput,
  systemClock,
  withSpan,
} from '@tenantry/core';
import { type JWTPayload, type JWTVerifyGetKey, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import { HttpTenancyError } from './errors.js';

/** Algorithms a token may be signed with. `none` is not among them and cannot be allowed. */
export const TokenAlgorithmSchema = z.enum([
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
/** One of {@link TokenAlgorithmSchema}. */
export type TokenAlgorithm = z.infer<typeof TokenAlgorithmSchema>;

const HMAC = new Set<TokenAlgorithm>(['HS256', 'HS384', 'HS512']);

/** Where the verification key comes from: exactly one of `secret`, `publicKey`, `jwksUrl`. */
export const TokenKeySchema = z.union([
  z.object({
    /** A shared secret for HS256/384/512, at least 32 bytes. */
    secret: z.union([
      z.string().min(32),
      // z.custom, not z.instanceof: the ZodInstanceOf type is newer than the lowest zod 4 we support.
      z
        .custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be a Uint8Array')
        .refine((b) => b.length >= 32, 'at least 32 bytes'),
    ]),
  }),
  z.object({
    /** A public key: SPKI PEM text, a JWK object, or a Node `KeyObject`. */
    publicKey: z.union([
      z.string().min(1),
      z.record(z.string(), z.unknown()),
      z.custom<KeyObject>(
        (v) => typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'public',
      ),
    ]),
  }),
  z.object({
    /** An HTTPS JWKS endpoint (`http:` only on loopback, for tests), fetched on demand and cached. */
    jwksUrl: z.url().refine((u) => {
      const url = new URL(u);
      return (
        url.protocol === 'https:' ||
        (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
      );
    }, 'must be https (http only on loopback)'),
    /** How long fetched keys are trusted before a refetch. @default 600000 */
    jwksCacheMaxAgeMs: z.number().int().positive().default(600_000),
    /** Least time between two fetches caused by an unknown `kid`, so forged kids cannot hammer the endpoint. @default 30000 */
    jwksCooldownMs: z.number().int().nonnegative().default(30_000),
    /** Fetch timeout. @default 5000 */
    jwksTimeoutMs: z.number().int().positive().default(5_000),
  }),
]);

/** Which claims carry what. Defaults follow common IdP practice (`sub`, and RFC 8693's `act` for the impersonator). */
export const ClaimNamesSchema = z.object({
  /** @default 'tenant_id' */
  tenant: z.string().min(1).default('tenant_id'),
  /** @default 'roles' */
  roles: z.string().min(1).default('roles'),
  /** `user` | `service` | `system`. @default 'actor_kind' */
  kind: z.string().min(1).default('actor_kind'),
  /** An object with `sub` (and optionally `roles`): the support person acting as the subject. @default 'act' */
  impersonator: z.string().min(1).default('act'),
});

/** Options of {@link createTokenVerifier}. */
export const TokenVerifierOptionsSchema = z.object({
  key: TokenKeySchema,
  /** Accepted `iss` value(s). Required: a token from another issuer is refused. */
  issuer: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Accepted `aud` value(s). Required: a token minted for another service is refused. */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** The algorithms allowed. @default ['HS256'] with a secret, ['RS256', 'ES256', 'EdDSA'] otherwise */
  algorithms: z.array(TokenAlgorithmSchema).min(1).optional(),
  /** Tolerated clock difference for `exp`/`nbf`, in seconds. @default 30 */
  clockToleranceSec: z.number().int().min(0).max(300).default(30),
  /** Refuse tokens issued longer ago than this, in seconds (needs `iat`). */
  maxTokenAgeSec: z.number().int().positive().optional(),
  claims: ClaimNamesSchema.default({
    tenant: 'tenant_id',
    roles: 'roles',
    kind: 'actor_kind',
    impersonator: 'act',
  }),
  /**
   * Verified tokens are cached until their `exp` (at most this many tokens, about 1 KB each with a
   * typical 700-character token, so the default costs roughly 10 MB; 0 disables). Beyond it the oldest
   * insertion is dropped; expired tokens are swept out after every `cacheSize / 2` insertions, without
   * waiting for the same token to come back. @default 10000
   */
  cacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
});
/** Input of {@link createTokenVerifier}. */
export type TokenVerifierOptions = z.input<typeof TokenVerifierOptionsSchema>;

/** Who a verified token speaks for. */
export interface VerifiedIdentity {
  /** The tenant named by the token, or `undefined` for platform staff without a tenant. */
  readonly tenantId: string | undefined;
  readonly actor: Actor;
  readonly impersonator: Actor | undefined;
  /** When the token stops being valid, in epoch milliseconds. */
  readonly expiresAtMs: number;
}

/** Verifies bearer tokens into identities. */
export interface TokenVerifier {
  /**
   * Verify a compact JWS.
   * @throws HttpTenancyError `HTTP_TOKEN_INVALID`, `HTTP_TOKEN_EXPIRED`, `HTTP_JWKS_UNAVAILABLE`
   */
  verify(token: string): Promise<VerifiedIdentity>;
  /**
   * The identity of `token` when its verification is cached and has not expired, answered without a
   * promise; `undefined` otherwise (then call {@link TokenVerifier.verify}). Only the exact token that
   * was verified hits its entry. Optional: a verifier without it is always asked through `verify`.
   */
  peek?(token: string): VerifiedIdentity | undefined;
  /** Verified tokens held in the cache now. */
  readonly cached: number;
}

const invalid = (reason: string, cause?: unknown): HttpTenancyError =>
  new HttpTenancyError('HTTP_TOKEN_INVALID', 'The bearer token was refused', {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });

function toKey(key: z.output<typeof TokenKeySchema>): KeyObject | JWTVerifyGetKey {
  if ('secret' in key) {
    return createSecretKey(typeof key.secret === 'string' ? Buffer.from(key.secret, 'utf8') : key.secret);
  }
  if ('publicKey' in key) {
    const k = key.publicKey;
    if (typeof k === 'string') return createPublicKey(k);
    if ((k as { type?: unknown }).type === 'public' && typeof (k as KeyObject).export === 'function')
      return k as KeyObject;
    return createPublicKey({ key: k as import('node:crypto').JsonWebKey, format: 'jwk' });
  }
  return createRemoteJWKSet(new URL(key.jwksUrl), {
    cacheMaxAge: key.jwksCacheMaxAgeMs,
    cooldownDuration: key.jwksCooldownMs,
    timeoutDuration: key.jwksTimeoutMs,
  });
}

function claimActor(
  payload: Record<string, unknown>,
  claims: z.output<typeof ClaimNamesSchema>,
  what: string,
): Actor {
  const roles = payload[claims.roles];
  // parseActor freezes the actor and marks it validated: runAsTenant enters it on every request
  // that reuses the cached token without parsing it again.
  return parseActor(
    {
      id: payload.sub,
      roles: roles === undefined ? [] : roles,
      kind: payload[claims.kind] ?? 'user',
    },
    what,
  );
}

/**
 * Build a verifier for bearer JWTs with jose. The key is a shared secret, a public key or a JWKS URL
 * (keys cached, refetch on unknown `kid` rate-limited); issuer and audience are required; only the
 * allowed algorithms pass (never `none`); `exp` and `sub` are required. Claims become a tenant id, an
 * actor `{ id: sub, roles, kind }` and, from RFC 8693's `act` claim, the impersonator. Verified
 * tokens are cached until they expire, in a cache bounded by `cacheSize`.
 * @throws ValidationError `VALIDATION_FAILED` on malformed options
 * @example
 * const verifier = createTokenVerifier({ key: { jwksUrl: 'https://idp.example.com/.well-known/jwks.json' }, issuer: 'https://idp.example.com/', audience: 'api' });
 */
export function createTokenVerifier(
  options: TokenVerifierOptions,
  clock: Clock = systemClock,
): TokenVerifier {
  const opts = parseInput(TokenVerifierOptionsSchema, options, 'token verifier options');
  const isSecret = 'secret' in opts.key;
  const algorithms = opts.algorithms ?? (isSecret ? ['HS256'] : ['RS256', 'ES256', 'EdDSA']);
  if (isSecret ? algorithms.some((a) => !HMAC.has(a)) : algorithms.some((a) => HMAC.has(a))) {
    // A public key must never verify an HMAC token (the classic RS256 → HS256 key-confusion attack).
    throw new ValidationError('token verifier options', [
      {
        path: ['algorithms'],
        message: 'HS* algorithms go with a secret only, the others with a public key only',
      },
    ]);
  }
  const key = toKey(opts.key);
  const cache = new Map<string, VerifiedIdentity>();
  const toleranceMs = opts.clockToleranceSec * 1000;
  // The system clock's time without a Date per cache lookup; an injected clock is always asked.
  const nowMs = clock === systemClock ? Date.now : () => clock.now().getTime();
  // Expired tokens leave memory without being read again: after every `cacheSize / 2` insertions the
  // whole cache is swept (amortised: at most two entries examined per insertion).
  const sweepEvery = Math.max(1, Math.ceil(opts.cacheSize / 2));
  let insertsSinceSweep = 0;
  const sweep = (now: number): void => {
    insertsSinceSweep = 0;
    for (const [t, id] of cache) if (id.expiresAtMs + toleranceMs <= now) cache.delete(t);
  };

  const map = (payload: JWTPayload): VerifiedIdentity => {
    const p = payload as Record<string, unknown>;
    const tenantClaim = p[opts.claims.tenant];
    const tenantId =
      tenantClaim === undefined || tenantClaim === null
        ? undefined
        : parseInput(TenantIdSchema, tenantClaim, 'tenant claim');
    const actor = claimActor(p, opts.claims, 'token subject');
    const act = p[opts.claims.impersonator];
    const impersonator =
      act && typeof act === 'object'
        ? claimActor(act as Record<string, unknown>, opts.claims, 'token impersonator')
        : undefined;
    let expiresAtMs = (payload.exp ?? 0) * 1000;
    if (opts.maxTokenAgeSec !== undefined && payload.iat !== undefined) {
      expiresAtMs = Math.min(expiresAtMs, (payload.iat + opts.maxTokenAgeSec) * 1000);
    }
    return Object.freeze({ tenantId, actor, impersonator, expiresAtMs });
  };

  const verifyUncached = async (token: string): Promise<VerifiedIdentity> => {
    try {
      const verifyOptions = {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms,
        clockTolerance: opts.clockToleranceSec,
        requiredClaims: ['exp', 'sub'],
        currentDate: clock.now(),
        ...(opts.maxTokenAgeSec === undefined ? {} : { maxTokenAge: opts.maxTokenAgeSec }),
      };
      const { payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, verifyOptions)
          : await jwtVerify(token, key, verifyOptions);
      try {
        return map(payload);
      } catch (error) {
        throw invalid('claims', error);
      }
    } catch (error) {
      if (error instanceof HttpTenancyError) throw error;
      if (error instanceof errors.JWTExpired) {
        throw new HttpTenancyError('HTTP_TOKEN_EXPIRED', 'The bearer token has expired', { cause: error });
      }
      if (
        error instanceof errors.JWKSTimeout ||
        (error instanceof errors.JOSEError && error.code === 'ERR_JWKS_INVALID')
      ) {
        throw new HttpTenancyError('HTTP_JWKS_UNAVAILABLE', 'The signing keys could not be fetched', {
          cause: error,
        });
      }
      if (error instanceof errors.JWTClaimValidationFailed) throw invalid(`claim ${error.claim}`, error);
      if (error instanceof errors.JOSEError) throw invalid(error.code, error);
      // fetch() failures of the JWKS endpoint surface as plain errors.
      if (!isSecret && 'jwksUrl' in opts.key) {
        throw new HttpTenancyError('HTTP_JWKS_UNAVAILABLE', 'The signing keys could not be fetched', {
          cause: error,
        });
      }
      throw invalid('malformed', error);
    }
  };

  // The cache is keyed by the whole token string, so only the exact token that was verified finds its
  // entry; an entry is used only until its `exp` (or `iat + maxTokenAgeSec`) plus the clock tolerance.
  const cachedIdentity = (token: string, now: number): VerifiedIdentity | undefined => {
    const hit = cache.get(token);
    if (hit === undefined) return undefined;
    if (hit.expiresAtMs + toleranceMs > now) return hit;
    cache.delete(token);
    return undefined;
  };
  const wellFormed = (token: unknown): token is string =>
    typeof token === 'string' && token.length > 0 && token.length <= 16_384;

  return {
    get cached() {
      return cache.size;
    },
    peek(token: string): VerifiedIdentity | undefined {
      if (!wellFormed(token)) return undefined;
      return cachedIdentity(token, nowMs());
    },
    async verify(token: string): Promise<VerifiedIdentity> {
      if (!wellFormed(token)) throw invalid('malformed');
      const now = nowMs();
      const hit = cachedIdentity(token, now);
      if (hit !== undefined) return hit;
      const identity = await withSpan('http', 'token.verify', {}, async (span) => {
        const id = await verifyUncached(token);
        if (id.tenantId !== undefined) span.setAttribute(TelemetryAttributes.TENANT_ID, id.tenantId);
        return id;
      });
      if (opts.cacheSize > 0) {
        if (++insertsSinceSweep >= sweepEvery) sweep(now);
        if (cache.size >= opts.cacheSize) {
          // Drop the oldest insertion (Map keeps insertion order): bounded memory, no scan.
          const oldest = cache.keys().next();
          if (!oldest.done) cache.delete(oldest.value);
        }
        cache.set(token, identity);
      }
      return identity;
    },
  };
}
